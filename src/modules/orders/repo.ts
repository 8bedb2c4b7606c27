import type { Queryable } from '../../db/database.js';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Int8, OrderRecord } from '../../db/tables.js';
import type { orderBreakdownSchema, orderSchema } from './schemas.js';
import type { OrderStatus } from './state-machine.js';
import { runPrepared } from '../../db/prepared.js';

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
 * With `countOpenUnpaid`, the same statement counts the customer's open unpaid card orders besides this
 * one (`openUnpaidBefore`; 0 without): its snapshot is taken after the statements before it, so once the
 * caller holds the customer's row lock it sees every order a racing checkout of that customer committed.
 */
export async function insertOrder(
  trx: Knex.Transaction,
  restaurantId: number,
  order: NewOrder,
  options: { countOpenUnpaid: boolean },
): Promise<{ order: OrderView; openUnpaidBefore: number }> {
  // One statement for the order, its items, their customisations and options and the first event: each
  // is a round trip otherwise, taken while the customer's checkout holds its locks. An item's id is
  // matched to its line by rank: ids of one restaurant's rows grow in insertion order
  // (migrations/tenant-ids.ts), and the items are inserted in line order.
  const lines = order.items.map((item, index) => ({
    n: index + 1,
    recipe_id: item.recipe_id,
    name: item.name,
    description: item.description,
    quantity: item.quantity,
    unit_price_cents: item.unit_price_cents,
    line_total_cents: item.line_total_cents,
    allergens: item.allergens,
    customizations: item.customizations.map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity })),
    options: item.options.map((option, position) => ({ id: option.id, name: option.name, price_cents: option.price_cents, position })),
  }));
  const result: {
    rows: Array<{
      id: Int8;
      status: OrderStatus;
      payment_status: OrderView['payment_status'];
      placed_at: Date | string;
      updated_at: Date | string;
      open_unpaid: Int8 | null;
    }>;
  } = await runPrepared(trx, {
    // Fixed text whatever the order (its lines go in as one JSON document): planned once per connection.
    name: 'order_insert',
    // The open statuses are customer-limits.ts's OPEN_STATUSES, written out so the partial index
    // orders_open_unpaid_card serves the count in the prepared (generic) plan too.
    sql: `WITH open_unpaid AS (
         SELECT CASE WHEN ?::boolean THEN (SELECT count(*) FROM orders WHERE restaurant_id = ? AND customer_id = ? AND payment_method = 'card'
                                           AND payment_status = 'unpaid' AND status IN ('pending', 'confirmed')) END AS n
       ),
       o AS (
         INSERT INTO orders (restaurant_id, customer_id, payment_method, payment_status, fulfillment, delivery_address, delivery_lat,
                             delivery_lng, notes, currency, subtotal_cents, discount_cents, coupon_code, service_charges, delivery_fee_cents,
                             taxes, tax_cents, tip_cents, total_cents, requested_at, slot_starts_at, promised_at, slot_counted)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, true)
         RETURNING id, status, payment_status, placed_at, updated_at
       ),
       line AS (
         SELECT * FROM jsonb_to_recordset(?::jsonb) AS l(n integer, recipe_id bigint, name text, description text, quantity integer,
                unit_price_cents integer, line_total_cents integer, allergens jsonb, customizations jsonb, options jsonb)
       ),
       item AS (
         INSERT INTO order_items (restaurant_id, order_id, recipe_id, name, description, quantity, unit_price_cents, line_total_cents, allergens)
         SELECT ?, o.id, line.recipe_id, line.name, line.description, line.quantity, line.unit_price_cents, line.line_total_cents,
                ARRAY(SELECT jsonb_array_elements_text(line.allergens))
           FROM o, line ORDER BY line.n
         RETURNING id
       ),
       ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM item),
       customization AS (
         INSERT INTO order_item_ingredients (restaurant_id, order_item_id, ingredient_id, quantity)
         SELECT ?, ranked.id, c.ingredient_id, c.quantity
           FROM line JOIN ranked ON ranked.n = line.n, jsonb_to_recordset(line.customizations) AS c(ingredient_id bigint, quantity integer)
       ),
       chosen AS (
         INSERT INTO order_item_options (restaurant_id, order_item_id, option_id, name, price_cents, position)
         SELECT ?, ranked.id, x.id, x.name, x.price_cents, x.position
           FROM line JOIN ranked ON ranked.n = line.n, jsonb_to_recordset(line.options) AS x(id bigint, name text, price_cents integer, position integer)
       ),
       event AS (
         INSERT INTO order_events (restaurant_id, order_id, status, actor) SELECT ?, o.id, 'pending', 'customer' FROM o
       )
       SELECT id, status, payment_status, placed_at, updated_at, (SELECT n FROM open_unpaid) AS open_unpaid FROM o`,
    bindings: [
      options.countOpenUnpaid,
      restaurantId,
      order.customerId,
      restaurantId,
      order.customerId,
      order.paymentMethod,
      order.paymentStatus,
      order.fulfillment,
      order.deliveryAddress,
      order.deliveryLocation?.lat ?? null,
      order.deliveryLocation?.lng ?? null,
      order.notes,
      order.currency,
      order.breakdown.subtotal_cents,
      order.breakdown.discount_cents,
      order.breakdown.coupon_code,
      JSON.stringify(order.breakdown.service_charges),
      order.breakdown.delivery_fee_cents,
      JSON.stringify(order.breakdown.taxes),
      order.breakdown.tax_cents,
      order.breakdown.tip_cents,
      order.breakdown.total_cents,
      order.timing.requestedAt,
      order.timing.slotStartsAt,
      order.timing.promisedAt,
      JSON.stringify(lines),
      restaurantId,
      restaurantId,
      restaurantId,
      restaurantId,
    ],
  });
  const row = result.rows[0];
  if (row === undefined) throw new Error('insert into orders returned no row');
  const orderId = Number(row.id);

  const view: OrderView = {
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
    placed_at: new Date(row.placed_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
  return { order: view, openUnpaidBefore: Number(row.open_unpaid ?? 0) };
}

export async function orderExists(db: Queryable, restaurantId: number, orderId: number): Promise<boolean> {
  return (await db('orders').select('id').where({ restaurant_id: restaurantId, id: orderId }).first()) !== undefined;
}
