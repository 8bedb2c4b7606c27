import type { Knex } from 'knex';

let sequence = 0;
const next = () => {
  sequence += 1;
  return `${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
};

export interface RestaurantRow {
  id: number;
  domain: string;
  name: string;
  currency: string;
  timezone: string;
}

export async function createRestaurant(knex: Knex, overrides: Partial<Omit<RestaurantRow, 'id'>> = {}): Promise<RestaurantRow> {
  const [row] = await knex('restaurants')
    .insert({
      domain: overrides.domain ?? `r${next()}.example.com`.toLowerCase(),
      name: overrides.name ?? 'Test Bistro',
      currency: overrides.currency ?? 'EUR',
      timezone: overrides.timezone ?? 'Europe/Berlin',
    })
    .returning(['id', 'domain', 'name', 'currency', 'timezone']);
  return row as RestaurantRow;
}

export async function createCustomer(
  knex: Knex,
  restaurantId: number,
  overrides: { user_sub?: string; email?: string } = {},
): Promise<{ id: number; user_sub: string }> {
  const [row] = await knex('customers')
    .insert({ restaurant_id: restaurantId, user_sub: overrides.user_sub ?? `sub-${next()}`, email: overrides.email ?? null })
    .returning(['id', 'user_sub']);
  return row as { id: number; user_sub: string };
}

export async function createIngredient(
  knex: Knex,
  restaurantId: number,
  overrides: { name?: string; price_cents?: number; stock?: number; unit?: string } = {},
): Promise<{ id: number; stock: number }> {
  const [row] = await knex('ingredients')
    .insert({
      restaurant_id: restaurantId,
      name: overrides.name ?? `Ingredient ${next()}`.slice(0, 50),
      unit: overrides.unit ?? 'piece',
      price_cents: overrides.price_cents ?? 100,
      stock: overrides.stock ?? 100,
    })
    .returning(['id', 'stock']);
  return row as { id: number; stock: number };
}

/**
 * An order as checkout leaves it: stock taken with ledger rows, a first event, and (for cash) the
 * confirmation request in the outbox. For tests of what happens after placement.
 */
export async function createPlacedOrder(
  knex: Knex,
  options: {
    restaurantId: number;
    customerId: number;
    paymentMethod?: 'card' | 'cash';
    placedAt?: Date;
    reserve?: Array<{ ingredientId: number; quantity: number }>;
    totalCents?: number;
    enqueueConfirmation?: boolean;
  },
): Promise<{ id: number }> {
  return knex.transaction(async (trx) => {
    const [order] = await trx('orders')
      .insert({
        restaurant_id: options.restaurantId,
        customer_id: options.customerId,
        payment_method: options.paymentMethod ?? 'cash',
        fulfillment: 'pickup',
        currency: 'EUR',
        // An order of one line with nothing added: its subtotal is its total.
        subtotal_cents: options.totalCents ?? 1000,
        total_cents: options.totalCents ?? 1000,
        ...(options.placedAt === undefined ? {} : { placed_at: options.placedAt }),
      })
      .returning('id');
    const orderId = Number(order.id);
    for (const { ingredientId, quantity } of options.reserve ?? []) {
      const [updated] = await trx('ingredients')
        .where({ restaurant_id: options.restaurantId, id: ingredientId })
        .decrement('stock', quantity)
        .returning('stock');
      await trx('inventory_movements').insert({
        restaurant_id: options.restaurantId,
        ingredient_id: ingredientId,
        delta: -quantity,
        reason: 'order_reserved',
        stock_after: updated.stock,
        order_id: orderId,
      });
    }
    await trx('order_events').insert({ restaurant_id: options.restaurantId, order_id: orderId, status: 'pending', actor: 'customer' });
    if (options.enqueueConfirmation ?? (options.paymentMethod ?? 'cash') === 'cash') {
      await trx('outbox').insert({ restaurant_id: options.restaurantId, type: 'order.confirmation_requested', payload: JSON.stringify({ order_id: orderId }) });
    }
    return { id: orderId };
  });
}
