import type { Queryable } from '../../db/database.js';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { OrderRecord } from '../../db/tables.js';
import type { orderBreakdownSchema, orderSchema } from './schemas.js';
import type { OrderStatus } from './state-machine.js';

/** An order as the API shows it: the response schema is the one declaration of its shape. */
export type OrderView = z.infer<typeof orderSchema>;
export type OrderItemView = OrderView['items'][number];
/** The price parts an order keeps as snapshots (API.md "Prices"). */
export type OrderBreakdown = z.infer<typeof orderBreakdownSchema>;

/** The snapshot as stored: only `insertOrder` writes the lists, from `priceOrder`'s answer. */
function storedBreakdown(o: OrderRecord): OrderBreakdown {
  return {
    subtotal_cents: o.subtotal_cents,
    discount_cents: o.discount_cents,
    coupon_code: o.coupon_code,
    service_charges: o.service_charges as OrderBreakdown['service_charges'],
    delivery_fee_cents: o.delivery_fee_cents,
    taxes: o.taxes as OrderBreakdown['taxes'],
    tax_cents: o.tax_cents,
    tip_cents: o.tip_cents,
    total_cents: o.total_cents,
  };
}

export interface OrderFilter {
  customerId?: number | undefined;
  ids?: readonly number[] | undefined;
  statuses?: readonly OrderStatus[] | undefined;
  /** Due at or after this instant (promised_at). */
  dueFrom?: Date | undefined;
  /** Due before this instant (promised_at). */
  dueTo?: Date | undefined;
  /** Keyset: orders with an id below this (lists are newest first). */
  beforeId?: number | undefined;
  limit?: number | undefined;
}

/**
 * Orders with their item snapshots in two statements whatever the page size: the orders, then all
 * their items (with customisations as JSON) in one query.
 */
export async function selectOrders(db: Queryable, restaurantId: number, filter: OrderFilter): Promise<OrderView[]> {
  const query = db('orders').where({ restaurant_id: restaurantId }).orderBy('id', 'desc');
  if (filter.customerId !== undefined) query.where({ customer_id: filter.customerId });
  if (filter.ids !== undefined) query.whereIn('id', [...filter.ids]);
  if (filter.statuses !== undefined) query.whereIn('status', [...filter.statuses]);
  if (filter.dueFrom !== undefined) query.where('promised_at', '>=', filter.dueFrom);
  if (filter.dueTo !== undefined) query.where('promised_at', '<', filter.dueTo);
  if (filter.beforeId !== undefined) query.where('id', '<', filter.beforeId);
  if (filter.limit !== undefined) query.limit(filter.limit);
  const orders: OrderRecord[] = await query;
  if (orders.length === 0) return [];

  const items: Array<Record<string, unknown>> = await db('order_items as oi')
    .select(
      'oi.order_id',
      'oi.recipe_id',
      'oi.name',
      'oi.description',
      'oi.quantity',
      'oi.unit_price_cents',
      'oi.line_total_cents',
      'oi.allergens',
      db.raw(`coalesce((SELECT json_agg(json_build_object('ingredient_id', x.ingredient_id, 'quantity', x.quantity) ORDER BY x.ingredient_id)
                 FROM order_item_ingredients x WHERE x.restaurant_id = oi.restaurant_id AND x.order_item_id = oi.id), '[]'::json) AS customizations`),
      db.raw(`coalesce((SELECT json_agg(json_build_object('id', x.option_id, 'name', x.name, 'price_cents', x.price_cents) ORDER BY x.position)
                 FROM order_item_options x WHERE x.restaurant_id = oi.restaurant_id AND x.order_item_id = oi.id), '[]'::json) AS options`),
    )
    .where('oi.restaurant_id', restaurantId)
    .whereIn(
      'oi.order_id',
      orders.map((o) => Number(o.id)),
    )
    .orderBy('oi.id');
  const itemsByOrder = new Map<number, OrderItemView[]>();
  for (const item of items) {
    const list = itemsByOrder.get(Number(item.order_id)) ?? [];
    list.push({
      recipe_id: Number(item.recipe_id),
      name: String(item.name),
      description: String(item.description),
      quantity: Number(item.quantity),
      customizations: item.customizations as OrderItemView['customizations'],
      options: (item.options as OrderItemView['options']).map((option) => ({
        id: Number(option.id),
        name: option.name,
        price_cents: Number(option.price_cents),
      })),
      allergens: item.allergens as OrderItemView['allergens'],
      unit_price_cents: Number(item.unit_price_cents),
      line_total_cents: Number(item.line_total_cents),
    });
    itemsByOrder.set(Number(item.order_id), list);
  }
  return orders.map((o) => ({
    id: Number(o.id),
    status: o.status,
    payment_status: o.payment_status,
    payment_method: o.payment_method,
    fulfillment: o.fulfillment,
    delivery_address: o.delivery_address,
    delivery_location: o.delivery_lat === null || o.delivery_lng === null ? null : { lat: o.delivery_lat, lng: o.delivery_lng },
    notes: o.notes,
    customer_id: Number(o.customer_id),
    currency: o.currency,
    items: itemsByOrder.get(Number(o.id)) ?? [],
    ...storedBreakdown(o),
    requested_at: o.requested_at === null ? null : o.requested_at.toISOString(),
    slot_starts_at: o.slot_starts_at === null ? null : o.slot_starts_at.toISOString(),
    promised_at: o.promised_at.toISOString(),
    placed_at: o.placed_at.toISOString(),
    updated_at: o.updated_at.toISOString(),
  }));
}

export async function selectOrderEvents(db: Queryable, restaurantId: number, orderId: number) {
  const rows = await db('order_events')
    .select('status', 'created_at', 'actor', 'reason')
    .where({ restaurant_id: restaurantId, order_id: orderId })
    .orderBy('id');
  return rows.map((row) => ({
    status: row.status,
    at: row.created_at.toISOString(),
    actor: row.actor,
    reason: row.reason,
  }));
}

/** A new order as checkout decided it: who, how, and the priced lines (snapshots of the menu now). */
export interface NewOrder {
  customerId: number;
  paymentMethod: OrderView['payment_method'];
  /** `paid` only for an order with nothing to pay. */
  paymentStatus: 'unpaid' | 'paid';
  fulfillment: OrderView['fulfillment'];
  deliveryAddress: string | null;
  deliveryLocation: OrderView['delivery_location'];
  notes: string | null;
  currency: string;
  /** When it is for; the order is counted in `slotStartsAt` by checkout in the same transaction. */
  timing: { requestedAt: Date | null; slotStartsAt: Date; promisedAt: Date };
  breakdown: OrderBreakdown;
  items: readonly OrderItemView[];
}

/**
 * Writes the order, its item snapshots, their customisations and the first `order_events` row (pending,
 * by the customer), and answers with the order as `selectOrders` would read it back (no second read).
 */
export async function insertOrder(trx: Knex.Transaction, restaurantId: number, order: NewOrder): Promise<OrderView> {
  const [row] = await trx('orders')
    .insert({
      restaurant_id: restaurantId,
      customer_id: order.customerId,
      payment_method: order.paymentMethod,
      payment_status: order.paymentStatus,
      fulfillment: order.fulfillment,
      delivery_address: order.deliveryAddress,
      delivery_lat: order.deliveryLocation?.lat ?? null,
      delivery_lng: order.deliveryLocation?.lng ?? null,
      notes: order.notes,
      currency: order.currency,
      subtotal_cents: order.breakdown.subtotal_cents,
      discount_cents: order.breakdown.discount_cents,
      coupon_code: order.breakdown.coupon_code,
      // jsonb: knex would send a JS array as a Postgres array, so the lists go as JSON text.
      service_charges: JSON.stringify(order.breakdown.service_charges),
      delivery_fee_cents: order.breakdown.delivery_fee_cents,
      taxes: JSON.stringify(order.breakdown.taxes),
      tax_cents: order.breakdown.tax_cents,
      tip_cents: order.breakdown.tip_cents,
      total_cents: order.breakdown.total_cents,
      requested_at: order.timing.requestedAt,
      slot_starts_at: order.timing.slotStartsAt,
      promised_at: order.timing.promisedAt,
      slot_counted: true,
    })
    .returning(['id', 'status', 'payment_status', 'placed_at', 'updated_at']);
  if (row === undefined) throw new Error('insert into orders returned no row');
  const orderId = Number(row.id);

  const items = await trx('order_items')
    .insert(
      order.items.map((item) => ({
        restaurant_id: restaurantId,
        order_id: orderId,
        recipe_id: item.recipe_id,
        name: item.name,
        description: item.description,
        quantity: item.quantity,
        unit_price_cents: item.unit_price_cents,
        line_total_cents: item.line_total_cents,
        allergens: item.allergens,
      })),
    )
    .returning('id');
  const customizations = order.items.flatMap((item, index) =>
    item.customizations.map((c) => ({
      restaurant_id: restaurantId,
      order_item_id: Number(items[index]?.id),
      ingredient_id: c.ingredient_id,
      quantity: c.quantity,
    })),
  );
  if (customizations.length > 0) await trx('order_item_ingredients').insert(customizations);
  const options = order.items.flatMap((item, index) =>
    item.options.map((option, position) => ({
      restaurant_id: restaurantId,
      order_item_id: Number(items[index]?.id),
      option_id: option.id,
      name: option.name,
      price_cents: option.price_cents,
      position,
    })),
  );
  if (options.length > 0) await trx('order_item_options').insert(options);
  await trx('order_events').insert({ restaurant_id: restaurantId, order_id: orderId, status: 'pending', actor: 'customer' });

  return {
    id: orderId,
    status: row.status,
    payment_status: row.payment_status,
    payment_method: order.paymentMethod,
    fulfillment: order.fulfillment,
    delivery_address: order.deliveryAddress,
    delivery_location: order.deliveryLocation,
    notes: order.notes,
    customer_id: order.customerId,
    currency: order.currency,
    items: order.items.map((item) => ({
      recipe_id: item.recipe_id,
      name: item.name,
      description: item.description,
      quantity: item.quantity,
      customizations: item.customizations.map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity })),
      options: item.options.map((option) => ({ id: option.id, name: option.name, price_cents: option.price_cents })),
      allergens: [...item.allergens],
      unit_price_cents: item.unit_price_cents,
      line_total_cents: item.line_total_cents,
    })),
    ...order.breakdown,
    requested_at: order.timing.requestedAt === null ? null : order.timing.requestedAt.toISOString(),
    slot_starts_at: order.timing.slotStartsAt.toISOString(),
    promised_at: order.timing.promisedAt.toISOString(),
    placed_at: row.placed_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function orderExists(db: Queryable, restaurantId: number, orderId: number): Promise<boolean> {
  return (await db('orders').select('id').where({ restaurant_id: restaurantId, id: orderId }).first()) !== undefined;
}
