import type { Knex } from 'knex';
import { AppError, conflict, type FieldError } from '../../http/errors.js';
import type { Tenant } from '../../http/tenant.js';
import { enqueueOrderEvent } from '../../queue/outbox.js';
import { selectCartLines, clearCart, type CartLineRow } from '../cart/repo.js';
import { getRecipesForPricing, priceRecipeLine, type PricedRecipe } from '../recipes/service.js';
import type { OrderView } from './repo.js';

export interface PlaceOrderInput {
  fulfillment: 'pickup' | 'delivery';
  delivery_address?: string | undefined;
  notes?: string | undefined;
  payment_method: 'card' | 'cash';
}

interface PricedCartLine {
  line: CartLineRow;
  recipe: PricedRecipe;
  unitPriceCents: number;
  /** Units of each ingredient one portion needs, after customisation. */
  perPortion: Array<{ ingredient_id: number; quantity: number }>;
}

const MAX_TOTAL_CENTS = 2_147_483_647; // the orders.total_cents column

/**
 * Places the customer's whole cart as one order, in the caller's transaction (DESIGN.md, "Placing an
 * order without overselling"): price every line from the live menu, sum what all lines need of each
 * ingredient (lines share ingredients, so per-line checks would oversell), write the order, item
 * snapshots, customisations, the first event and, for cash, the confirmation request, empty the cart,
 * then take the stock with one guarded UPDATE per ingredient in ascending id order (two checkouts
 * therefore lock in the same order and cannot deadlock) and write the ledger rows. Any shortfall throws
 * and the transaction leaves nothing behind.
 */
export async function placeOrder(
  trx: Knex.Transaction,
  tenant: Tenant,
  customer: { id: number; address: string | null },
  input: PlaceOrderInput,
): Promise<OrderView> {
  const deliveryAddress = input.fulfillment === 'delivery' ? (input.delivery_address ?? customer.address ?? undefined) : input.delivery_address;
  if (input.fulfillment === 'delivery' && deliveryAddress === undefined) {
    throw new AppError('validation_failed', 400, 'A delivery needs an address: send delivery_address or save one on your customer record', [
      { path: 'delivery_address', message: 'required for delivery' },
    ]);
  }

  const lines = await selectCartLines(trx, tenant.id, customer.id, { lock: true });
  if (lines.length === 0) throw new AppError('cart_empty', 422, 'The cart is empty: add something before ordering');

  const priced = priceCart(lines, await getRecipesForPricing(trx, tenant.id, lines.map((line) => line.recipe_id)));
  const totalCents = priced.reduce((sum, p) => sum + p.unitPriceCents * p.line.quantity, 0);
  if (totalCents > MAX_TOTAL_CENTS) throw conflict('The order total is larger than one order can hold; split it');

  const needs = new Map<number, number>();
  for (const p of priced) {
    for (const { ingredient_id, quantity } of p.perPortion) needs.set(ingredient_id, (needs.get(ingredient_id) ?? 0) + quantity * p.line.quantity);
  }
  const ingredientIds = [...needs.keys()].sort((a, b) => a - b);

  // Everything that takes no stock is written first, and the guarded UPDATEs come last, so the ingredient
  // rows they lock are held for as few statements as possible: checkouts sharing an ingredient queue on them.
  const notes = input.notes === undefined || input.notes === '' ? null : input.notes;
  const [order] = (await trx('orders')
    .insert({
      restaurant_id: tenant.id,
      customer_id: customer.id,
      payment_method: input.payment_method,
      fulfillment: input.fulfillment,
      delivery_address: deliveryAddress ?? null,
      notes,
      currency: tenant.currency,
      total_cents: totalCents,
    })
    .returning(['id', 'status', 'payment_status', 'placed_at', 'updated_at'])) as Array<Record<string, unknown>>;
  if (order === undefined) throw new Error('insert into orders returned no row');
  const orderId = Number(order['id']);

  const items: Array<{ id: number }> = await trx('order_items')
    .insert(
      priced.map((p) => ({
        restaurant_id: tenant.id,
        order_id: orderId,
        recipe_id: p.recipe.id,
        name: p.recipe.name,
        description: p.recipe.description,
        quantity: p.line.quantity,
        unit_price_cents: p.unitPriceCents,
        line_total_cents: p.unitPriceCents * p.line.quantity,
      })),
    )
    .returning('id');
  const customizations = priced.flatMap((p, index) =>
    p.line.customizations.map((c) => ({ restaurant_id: tenant.id, order_item_id: Number(items[index]?.id), ingredient_id: c.ingredient_id, quantity: c.quantity })),
  );
  if (customizations.length > 0) await trx('order_item_ingredients').insert(customizations);

  await trx('order_events').insert({ restaurant_id: tenant.id, order_id: orderId, status: 'pending', actor: 'customer' });
  // Cash needs no payment first: ask the kitchen to confirm now. A card order asks once it is paid.
  if (input.payment_method === 'cash') await enqueueOrderEvent(trx, { type: 'order.confirmation_requested', restaurantId: tenant.id, orderId });
  await clearCart(trx, tenant.id, customer.id);

  const ledger: Array<Record<string, unknown>> = [];
  const taken = new Set<number>();
  for (const ingredientId of ingredientIds) {
    const need = needs.get(ingredientId) ?? 0;
    const updated: Array<{ stock: number }> = await trx('ingredients')
      .where({ restaurant_id: tenant.id, id: ingredientId, available: true })
      .whereNull('archived_at')
      .where('stock', '>=', need)
      .update({ stock: trx.raw('stock - ?', [need]), updated_at: trx.fn.now() })
      .returning('stock');
    const row = updated[0];
    if (row === undefined) throw await insufficientStock(trx, tenant.id, priced, needs, taken);
    taken.add(ingredientId);
    ledger.push({ restaurant_id: tenant.id, ingredient_id: ingredientId, delta: -need, reason: 'order_reserved', stock_after: Number(row.stock), order_id: orderId });
  }
  if (ledger.length > 0) await trx('inventory_movements').insert(ledger);

  // The order as selectOrders would read it back, from what was just written (no second read).
  return {
    id: orderId,
    status: order['status'] as OrderView['status'],
    payment_status: order['payment_status'] as OrderView['payment_status'],
    payment_method: input.payment_method,
    fulfillment: input.fulfillment,
    delivery_address: deliveryAddress ?? null,
    notes,
    customer_id: customer.id,
    currency: tenant.currency,
    items: priced.map((p) => ({
      recipe_id: p.recipe.id,
      name: p.recipe.name,
      description: p.recipe.description,
      quantity: p.line.quantity,
      customizations: p.line.customizations.map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity })),
      unit_price_cents: p.unitPriceCents,
      line_total_cents: p.unitPriceCents * p.line.quantity,
    })),
    total_cents: totalCents,
    placed_at: new Date(order['placed_at'] as string).toISOString(),
    updated_at: new Date(order['updated_at'] as string).toISOString(),
  };
}

/** Prices each line from the live menu; a line that no longer fits the menu stops the checkout (409). */
function priceCart(lines: CartLineRow[], recipes: PricedRecipe[]): PricedCartLine[] {
  const byId = new Map(recipes.map((recipe) => [recipe.id, recipe]));
  const errors: FieldError[] = [];
  const priced: PricedCartLine[] = [];
  lines.forEach((line, index) => {
    const recipe = line.recipe_archived ? undefined : byId.get(line.recipe_id);
    if (recipe === undefined) {
      errors.push({ path: `items.${index}.recipe_id`, message: `${line.recipe_name} is no longer on the menu` });
      return;
    }
    try {
      const { unit_price_cents, ingredients } = priceRecipeLine(recipe, line.customizations, `items.${index}.customizations`);
      priced.push({ line, recipe, unitPriceCents: unit_price_cents, perPortion: ingredients });
    } catch (error) {
      if (error instanceof AppError) errors.push(...(error.errors ?? []));
      else throw error;
    }
  });
  if (errors.length > 0) throw conflict('Some cart lines no longer match the menu; update or remove them', errors);
  return priced;
}

/**
 * Names every shortfall (each short ingredient, for each line that uses it) from a fresh read of the
 * stock; the guarded UPDATE has already decided, this only explains.
 */
async function insufficientStock(
  trx: Knex.Transaction,
  restaurantId: number,
  priced: PricedCartLine[],
  needs: Map<number, number>,
  alreadyTaken: ReadonlySet<number>,
): Promise<AppError> {
  const rows: Array<{ id: number; name: string; unit: string; stock: number; available: boolean; archived: boolean }> = await trx('ingredients')
    .select('id', 'name', 'unit', 'stock', 'available', trx.raw('archived_at IS NOT NULL AS archived'))
    .where({ restaurant_id: restaurantId })
    .whereIn('id', [...needs.keys()]);
  // This transaction already took some ingredients (it rolls back): count those as still on the shelf.
  const onShelf = (row: (typeof rows)[number]) => (!row.available || row.archived ? 0 : row.stock + (alreadyTaken.has(Number(row.id)) ? (needs.get(Number(row.id)) ?? 0) : 0));
  const short = rows.filter((row) => onShelf(row) < (needs.get(Number(row.id)) ?? 0));
  const errors: FieldError[] = [];
  priced.forEach((p, index) => {
    for (const ingredient of short) {
      if (!p.perPortion.some((need) => need.ingredient_id === Number(ingredient.id))) continue;
      const need = needs.get(Number(ingredient.id)) ?? 0;
      const have = onShelf(ingredient);
      errors.push({
        path: `items.${index}`,
        message: `${p.recipe.name}: not enough ${ingredient.name} (ingredient ${ingredient.id}): the order needs ${need} ${ingredient.unit}, ${have} left`,
      });
    }
  });
  const names = short.map((ingredient) => ingredient.name).join(', ');
  return new AppError('insufficient_stock', 409, `Not enough stock for this order: ${names}. Nothing was ordered or charged.`, errors);
}
