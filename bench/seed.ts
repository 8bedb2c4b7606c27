// The bench restaurant: 200 ingredients, 100 recipes of 5 ingredients each, stock that never runs out,
// opening hours, a slot cap, a tax and a service charge, a size option on some dishes,
// written straight into the bench database (the menu is the object under test, not its creation).
import type { Knex } from 'knex';
import { TENANT_ID_SHIFT } from '../migrations/tenant-ids.js';
import { demoBistroPricing } from '../src/modules/pricing/demo.js';
import { replacePricingSettings } from '../src/modules/pricing/service.js';
import { setHours } from '../src/modules/schedule/service.js';
import { weekdays } from '../src/modules/schedule/core.js';

export const BENCH_DOMAIN = 'bench.localhost';
const INGREDIENTS = 200;
const RECIPES = 100;
/** Recipe k uses ingredients k, k + STRIDE, …, k + 4·STRIDE (by index), so recipes k and k+1 share none. */
const STRIDE = 25;
const LINE_QUANTITIES = [1, 2, 1, 3, 1] as const;
/** Large enough never to run out (stock is an integer column). */
const STOCK = 1_000_000_000;
/** Customers with no Cognito user, for the plain-SQL baseline (its clients read their customer by user_sub). */
const PLAIN_CUSTOMERS = 50;
const PLAIN_FIRST_SUB = 900_000;
/** Orders one 15-minute slot may hold (the most the schema allows): above what a run places in one, so no order is refused for it. */
const SLOT_CAP = 10_000;

export interface BenchMenu {
  restaurantId: number;
  domain: string;
  currency: string;
  /** Ingredient ids are evenly spaced: index m is firstIngredientId + m·idStep. */
  firstIngredientId: number;
  /** In index order, evenly spaced by idStep. */
  recipeIds: number[];
  /** A restaurant's ids of one table are n·2^20 + restaurant id (migrations/tenant-ids.ts): one apart in n. */
  idStep: number;
  stride: number;
  lineQuantities: readonly number[];
  /** Recipe k costs base + perIndex·k (each ingredient m costs 100 + m cents a unit). */
  priceOf: { base: number; perIndex: number };
  plainCustomers: { firstId: number; firstSub: number; count: number };
}

const ingredientPrice = (index: number) => 100 + index;

export async function seedBenchRestaurant(knex: Knex): Promise<BenchMenu> {
  const menu = await knex.transaction(async (trx) => {
    const [restaurant] = (await trx('restaurants')
      .insert({ domain: BENCH_DOMAIN, name: 'Bench Bistro', currency: 'EUR', timezone: 'Europe/Berlin' })
      .returning(['id', 'currency'])) as Array<{ id: unknown; currency: string }>;
    const restaurantId = Number(restaurant?.id);

    const ingredientRows = (await trx('ingredients')
      .insert(
        Array.from({ length: INGREDIENTS }, (_, m) => ({
          restaurant_id: restaurantId,
          name: `Bench ingredient ${m}`,
          description: `Ingredient number ${m} of the bench menu`,
          unit: m % 3 === 0 ? '100 g' : 'piece',
          price_cents: ingredientPrice(m),
          stock: STOCK,
        })),
      )
      .returning('id')) as Array<{ id: unknown }>;
    const ingredientIds = ingredientRows.map((row) => Number(row.id)).sort((a, b) => a - b);
    const firstIngredientId = contiguous(ingredientIds, 'ingredient');

    const recipeRows = (await trx('recipes')
      .insert(
        Array.from({ length: RECIPES }, (_, k) => ({
          restaurant_id: restaurantId,
          name: `Bench dish ${k}`,
          description: `A dish of five ingredients, number ${k} on the menu`,
          category: ['starters', 'mains', 'desserts', 'drinks'][k % 4],
        })),
      )
      .returning('id')) as Array<{ id: unknown }>;
    const recipeIds = recipeRows.map((row) => Number(row.id)).sort((a, b) => a - b);
    contiguous(recipeIds, 'recipe');

    await trx('recipe_ingredients').insert(
      recipeIds.flatMap((recipeId, k) =>
        LINE_QUANTITIES.map((quantity, j) => ({
          restaurant_id: restaurantId,
          recipe_id: recipeId,
          ingredient_id: firstIngredientId + (k + STRIDE * j) * TENANT_ID_SHIFT,
          quantity,
          removable: j > 0,
          max_quantity: quantity + 2,
        })),
      ),
    );

    // A dinner rush, not an empty shop: hours (every day, all day, so a run at any time of day is served;
    // checkout still reads and judges them), a slot cap far above what a run places in one slot, and a
    // size choice on every fourth dish (a default of +0, so prices follow the formula below), which the
    // cart stores on the line and the order copies.
    await setHours(trx, restaurantId, {
      weekly: weekdays().map((day) => ({ day, opens: '00:00', closes: '24:00' })),
      lead_time_minutes: 20,
      slot_minutes: 15,
      max_orders_per_slot: SLOT_CAP,
      order_ahead_days: 7,
    });
    const optionRecipes = recipeIds.filter((_, k) => k % 4 === 0);
    const groups = (await trx('recipe_option_groups')
      .insert(optionRecipes.map((recipeId) => ({ restaurant_id: restaurantId, recipe_id: recipeId, name: 'Size', min_select: 1, max_select: 1, position: 0 })))
      .returning(['id', 'recipe_id'])) as Array<{ id: unknown; recipe_id: unknown }>;
    await trx('recipe_options').insert(
      groups.flatMap((group) => [
        {
          restaurant_id: restaurantId,
          recipe_id: Number(group.recipe_id),
          group_id: Number(group.id),
          name: 'Regular',
          price_cents: 0,
          is_default: true,
          position: 0,
        },
        {
          restaurant_id: restaurantId,
          recipe_id: Number(group.recipe_id),
          group_id: Number(group.id),
          name: 'Large',
          price_cents: 150,
          is_default: false,
          position: 1,
        },
      ]),
    );

    const customerRows = (await trx('customers')
      .insert(Array.from({ length: PLAIN_CUSTOMERS }, (_, i) => ({ restaurant_id: restaurantId, user_sub: String(PLAIN_FIRST_SUB + i) })))
      .returning('id')) as Array<{ id: unknown }>;
    const customerIds = customerRows.map((row) => Number(row.id)).sort((a, b) => a - b);

    const quantitySum = LINE_QUANTITIES.reduce((sum, q) => sum + q, 0);
    const base = LINE_QUANTITIES.reduce((sum, q, j) => sum + q * ingredientPrice(STRIDE * j), 0);
    return {
      restaurantId,
      domain: BENCH_DOMAIN,
      currency: restaurant?.currency ?? 'EUR',
      firstIngredientId,
      recipeIds,
      idStep: TENANT_ID_SHIFT,
      stride: STRIDE,
      lineQuantities: LINE_QUANTITIES,
      priceOf: { base, perIndex: quantitySum },
      plainCustomers: { firstId: contiguous(customerIds, 'customer'), firstSub: PLAIN_FIRST_SUB, count: PLAIN_CUSTOMERS },
    };
  });
  // A sales tax and a taxable service charge on every order (the bistro demo's), so checkout prices a full breakdown.
  await replacePricingSettings(knex, menu.restaurantId, demoBistroPricing());
  return menu;
}

/** The plain-SQL baseline computes ids by arithmetic: a fresh restaurant's counters hand them out in sequence, but check. */
function contiguous(ids: number[], what: string): number {
  const first = ids[0];
  if (first === undefined || ids.some((id, i) => id !== first + i * TENANT_ID_SHIFT)) throw new Error(`bench seed: ${what} ids are not consecutive`);
  return first;
}
