import type { Queryable } from '../../db/database.js';
import type { OrderStatus } from './state-machine.js';

export interface OrderItemView {
  recipe_id: number;
  name: string;
  description: string;
  quantity: number;
  customizations: Array<{ ingredient_id: number; quantity: number }>;
  unit_price_cents: number;
  line_total_cents: number;
}

export interface OrderView {
  id: number;
  status: OrderStatus;
  payment_status: 'unpaid' | 'paid' | 'partially_refunded' | 'refunded';
  payment_method: 'card' | 'cash';
  fulfillment: 'pickup' | 'delivery';
  delivery_address: string | null;
  notes: string | null;
  customer_id: number;
  currency: string;
  items: OrderItemView[];
  total_cents: number;
  placed_at: string;
  updated_at: string;
}

export interface OrderFilter {
  customerId?: number | undefined;
  ids?: readonly number[] | undefined;
  statuses?: readonly OrderStatus[] | undefined;
  /** Keyset: orders with an id below this (lists are newest first). */
  beforeId?: number | undefined;
  limit?: number | undefined;
}

const iso = (value: unknown) => new Date(value as string).toISOString();

/**
 * Orders with their item snapshots in two statements whatever the page size: the orders, then all
 * their items (with customisations as JSON) in one query.
 */
export async function selectOrders(db: Queryable, restaurantId: number, filter: OrderFilter): Promise<OrderView[]> {
  const query = db('orders').where({ restaurant_id: restaurantId }).orderBy('id', 'desc');
  if (filter.customerId !== undefined) query.where({ customer_id: filter.customerId });
  if (filter.ids !== undefined) query.whereIn('id', [...filter.ids]);
  if (filter.statuses !== undefined) query.whereIn('status', [...filter.statuses]);
  if (filter.beforeId !== undefined) query.where('id', '<', filter.beforeId);
  if (filter.limit !== undefined) query.limit(filter.limit);
  const orders: Array<Record<string, unknown>> = await query;
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
      db.raw(`coalesce((SELECT json_agg(json_build_object('ingredient_id', x.ingredient_id, 'quantity', x.quantity) ORDER BY x.ingredient_id)
                 FROM order_item_ingredients x WHERE x.restaurant_id = oi.restaurant_id AND x.order_item_id = oi.id), '[]'::json) AS customizations`),
    )
    .where('oi.restaurant_id', restaurantId)
    .whereIn('oi.order_id', orders.map((o) => Number(o['id'])))
    .orderBy('oi.id');
  const itemsByOrder = new Map<number, OrderItemView[]>();
  for (const item of items) {
    const list = itemsByOrder.get(Number(item['order_id'])) ?? [];
    list.push({
      recipe_id: Number(item['recipe_id']),
      name: String(item['name']),
      description: String(item['description']),
      quantity: Number(item['quantity']),
      customizations: item['customizations'] as OrderItemView['customizations'],
      unit_price_cents: Number(item['unit_price_cents']),
      line_total_cents: Number(item['line_total_cents']),
    });
    itemsByOrder.set(Number(item['order_id']), list);
  }
  return orders.map((o) => ({
    id: Number(o['id']),
    status: o['status'] as OrderStatus,
    payment_status: o['payment_status'] as OrderView['payment_status'],
    payment_method: o['payment_method'] as OrderView['payment_method'],
    fulfillment: o['fulfillment'] as OrderView['fulfillment'],
    delivery_address: (o['delivery_address'] as string | null) ?? null,
    notes: (o['notes'] as string | null) ?? null,
    customer_id: Number(o['customer_id']),
    currency: String(o['currency']),
    items: itemsByOrder.get(Number(o['id'])) ?? [],
    total_cents: Number(o['total_cents']),
    placed_at: iso(o['placed_at']),
    updated_at: iso(o['updated_at']),
  }));
}

export async function selectOrderEvents(db: Queryable, restaurantId: number, orderId: number) {
  const rows: Array<Record<string, unknown>> = await db('order_events')
    .select('status', 'created_at', 'actor', 'reason')
    .where({ restaurant_id: restaurantId, order_id: orderId })
    .orderBy('id');
  return rows.map((row) => ({
    status: row['status'] as OrderStatus,
    at: iso(row['created_at']),
    actor: row['actor'] as 'customer' | 'staff' | 'system',
    reason: (row['reason'] as string | null) ?? null,
  }));
}
