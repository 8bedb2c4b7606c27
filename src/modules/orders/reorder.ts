import type { Knex } from 'knex';
import { withTransaction } from '../../db/transaction.js';
import { notFound } from '../../lib/errors.js';
import * as cart from '../cart/service.js';
import { selectOrders } from './repo.js';

/**
 * Refills the customer's cart from one of their past orders (API.md "Menu"): each item goes back with
 * the options and customisations it was ordered with, priced as the menu is today; an item that no longer
 * fits the menu is reported in `skipped`, not dropped silently. Another customer's order is 404.
 */
export async function reorder(knex: Knex, restaurantId: number, customerId: number, orderId: number): Promise<cart.CartView & { skipped: cart.SkippedLine[] }> {
  const skipped = await withTransaction(knex, async (trx) => {
    const [order] = await selectOrders(trx, restaurantId, { ids: [orderId], customerId });
    if (order === undefined) throw notFound('The order');
    return cart.addLines(
      trx,
      restaurantId,
      customerId,
      order.items.map((item) => ({
        recipe_id: item.recipe_id,
        name: item.name,
        quantity: item.quantity,
        customizations: item.customizations,
        options: item.options,
      })),
    );
  });
  return { ...(await cart.getCart(knex, restaurantId, customerId)), skipped };
}
