import type { Knex } from 'knex';

/**
 * The tables' columns as the migrations declare them, for knex's type checking (`tables-augment.ts`):
 * a wrong column name in `db('ingredients').where(...)`, an insert or an update fails to compile. `bigint` columns read as
 * `Int8`, a number on both drivers: PGlite returns one, and database.ts tells pg to (every value we store
 * fits in 2^53). `timestamptz` reads as Date on both.
 */
export type Int8 = number;

/**
 * Select shape, insert shape (defaults and identities optional), update shape (any subset). `Write` is
 * what inserts and updates take where it differs from what a select reads (a `date` written as text).
 */
export type Table<Row, Required extends keyof Row & keyof Write, Write extends Record<keyof Row, unknown> = Row> = Knex.CompositeTableType<
  Row,
  { [K in Required]: Write[K] | Knex.Raw } & { [K in Exclude<keyof Row, Required>]?: Write[K] | Knex.Raw },
  { [K in keyof Row]?: Write[K] | Knex.Raw }
>;

export interface RestaurantRecord {
  id: Int8;
  domain: string;
  name: string;
  currency: string;
  timezone: string;
  created_at: Date;
  updated_at: Date;
}

export interface StaffMemberRecord {
  restaurant_id: Int8;
  user_sub: string;
  email: string;
  role: 'manager' | 'kitchen';
  created_at: Date;
  updated_at: Date;
}

export interface IngredientRecord {
  restaurant_id: Int8;
  id: Int8;
  name: string;
  description: string;
  unit: string;
  price_cents: number;
  available: boolean;
  stock: number;
  low_stock_threshold: number;
  /** EU allergen names (src/lib/allergens.ts); text[] reads as an array on both drivers. */
  allergens: string[];
  vegan: boolean;
  vegetarian: boolean;
  /** When a timed "86" ends: the un-86 job switches the ingredient back on then. */
  unavailable_until: Date | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface RecipeRecord {
  restaurant_id: Int8;
  id: Int8;
  name: string;
  description: string;
  category: string;
  /** The picture: an upload id naming its objects in the media store, and its full size. */
  image_id: string | null;
  image_width: number | null;
  image_height: number | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface RecipeIngredientRecord {
  restaurant_id: Int8;
  recipe_id: Int8;
  ingredient_id: Int8;
  quantity: number;
  removable: boolean;
  max_quantity: number | null;
}

export interface RecipeOptionGroupRecord {
  restaurant_id: Int8;
  id: Int8;
  recipe_id: Int8;
  name: string;
  min_select: number;
  max_select: number;
  position: number;
  archived_at: Date | null;
}

export interface RecipeOptionRecord {
  restaurant_id: Int8;
  id: Int8;
  recipe_id: Int8;
  group_id: Int8;
  name: string;
  price_cents: number;
  is_default: boolean;
  position: number;
  archived_at: Date | null;
}

export interface RecipeOptionIngredientRecord {
  restaurant_id: Int8;
  option_id: Int8;
  ingredient_id: Int8;
  quantity: number;
}

export interface InventoryMovementRecord {
  restaurant_id: Int8;
  id: Int8;
  ingredient_id: Int8;
  delta: number;
  reason: 'restock' | 'waste' | 'correction' | 'count' | 'order_reserved' | 'order_released';
  stock_after: number;
  order_id: Int8 | null;
  user_sub: string | null;
  note: string | null;
  created_at: Date;
}

export interface CartItemRecord {
  restaurant_id: Int8;
  id: Int8;
  customer_id: Int8;
  recipe_id: Int8;
  quantity: number;
  created_at: Date;
  updated_at: Date;
}

export interface CartItemIngredientRecord {
  restaurant_id: Int8;
  cart_item_id: Int8;
  ingredient_id: Int8;
  quantity: number;
}

export interface CartItemOptionRecord {
  restaurant_id: Int8;
  cart_item_id: Int8;
  option_id: Int8;
}

export interface OrderRecord {
  restaurant_id: Int8;
  id: Int8;
  customer_id: Int8;
  status: 'pending' | 'confirmed' | 'preparing' | 'ready' | 'completed' | 'cancelled' | 'rejected';
  payment_status: 'unpaid' | 'paid' | 'partially_refunded' | 'refunded';
  payment_method: 'card' | 'cash';
  fulfillment: 'pickup' | 'delivery';
  delivery_address: string | null;
  notes: string | null;
  currency: string;
  total_cents: number;
  subtotal_cents: number;
  discount_cents: number;
  /** jsonb: [{name, amount_cents}] */
  service_charges: unknown;
  delivery_fee_cents: number;
  /** jsonb: [{name, rate, inclusive, taxable_cents, tax_cents}] */
  taxes: unknown;
  tax_cents: number;
  tip_cents: number;
  coupon_code: string | null;
  delivery_lat: number | null;
  delivery_lng: number | null;
  /** Null: as soon as possible. */
  requested_at: Date | null;
  /** Null only for orders placed before slots existed. */
  slot_starts_at: Date | null;
  promised_at: Date;
  /** The order still holds its place in slot_bookings. */
  slot_counted: boolean;
  placed_at: Date;
  updated_at: Date;
}

export interface OrderItemRecord {
  restaurant_id: Int8;
  id: Int8;
  order_id: Int8;
  recipe_id: Int8;
  name: string;
  description: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
  allergens: string[];
}

export interface OrderItemOptionRecord {
  restaurant_id: Int8;
  order_item_id: Int8;
  option_id: Int8;
  name: string;
  price_cents: number;
  position: number;
}

export interface OrderItemIngredientRecord {
  restaurant_id: Int8;
  order_item_id: Int8;
  ingredient_id: Int8;
  quantity: number;
}

export interface OrderEventRecord {
  restaurant_id: Int8;
  id: Int8;
  order_id: Int8;
  status: OrderRecord['status'];
  actor: 'customer' | 'staff' | 'system';
  actor_sub: string | null;
  reason: string | null;
  /** Set by a deferred trigger at commit (the live stream's order); null only inside the inserting transaction. */
  feed_seq: Int8 | null;
  created_at: Date;
}

export interface CustomerRecord {
  restaurant_id: Int8;
  id: Int8;
  user_sub: string;
  email: string | null;
  name: string | null;
  phone: string | null;
  address: string | null;
  /** jsonb: {exclude_allergens, dietary}, validated by the customers module's schema. */
  preferences: unknown;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRecord {
  restaurant_id: Int8;
  id: Int8;
  order_id: Int8;
  method: 'card' | 'cash';
  provider: string;
  provider_payment_id: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  amount_cents: number;
  refunded_cents: number;
  currency: string;
  failure_code: string | null;
  /** The key sent to the provider, so a retry or a reconciliation never charges twice. */
  provider_idempotency_key: string | null;
  client_secret: string | null;
  /** The client's Idempotency-Key. */
  request_key: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RefundRecord {
  restaurant_id: Int8;
  id: Int8;
  payment_id: Int8;
  amount_cents: number;
  status: 'pending' | 'succeeded' | 'failed';
  provider_refund_id: string | null;
  user_sub: string | null;
  provider_idempotency_key: string | null;
  failure_code: string | null;
  reason: string | null;
  request_key: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Platform-wide: one provider account serves every restaurant. */
export interface PaymentWebhookEventRecord {
  provider: string;
  event_id: string;
  type: string;
  received_at: Date;
}

export interface IdempotencyKeyRecord {
  restaurant_id: Int8;
  user_sub: string;
  key: string;
  request_hash: string;
  status: 'running' | 'completed';
  response_code: number | null;
  /** jsonb: the stored response body, null while running. */
  response_body: unknown;
  locked_at: Date | null;
  created_at: Date;
}

export interface OutboxRecord {
  restaurant_id: Int8;
  id: Int8;
  type: string;
  /** jsonb */
  payload: unknown;
  attempts: number;
  available_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface ScheduleSettingsRecord {
  restaurant_id: Int8;
  lead_time_minutes: number;
  slot_minutes: number;
  max_orders_per_slot: number | null;
  order_ahead_days: number;
  updated_at: Date;
}

/** Wall-clock minutes after local midnight (smallint, a number on both drivers). */
export interface OpeningRangeRecord {
  restaurant_id: Int8;
  iso_weekday: number;
  opens_minute: number;
  closes_minute: number;
}

export interface RestaurantClosureRecord {
  restaurant_id: Int8;
  id: Int8;
  /**
   * `date`: read bare, node-postgres gives a Date at local midnight of the process and PGlite one at UTC
   * midnight, so the schedule repo reads these through `to_char` and writes them as 'YYYY-MM-DD' text.
   */
  starts_on: Date;
  ends_on: Date;
  reason: string | null;
  created_at: Date;
}

/** A calendar day written as text ('YYYY-MM-DD'); Postgres parses it. */
export interface RestaurantClosureWrite extends Omit<RestaurantClosureRecord, 'starts_on' | 'ends_on'> {
  starts_on: string;
  ends_on: string;
}

export interface OrderingPauseRecord {
  restaurant_id: Int8;
  paused_until: Date;
  reason: string | null;
  paused_by: string;
  created_at: Date;
}

export interface SlotBookingRecord {
  restaurant_id: Int8;
  slot_starts_at: Date;
  orders_count: number;
}

export interface RestaurantPricingRecord {
  restaurant_id: Int8;
  /** jsonb object, validated by the pricing module's schema on the way in and out. */
  settings: unknown;
  next_entry_id: Int8;
  created_at: Date;
  updated_at: Date;
}

export interface RateLimitCounterRecord {
  /** SHA-256 hex of the limiter's prefix and the client's key. */
  key: string;
  hits: number;
  reset_at: Date;
}

export interface StreamTicketRecord {
  restaurant_id: Int8;
  ticket_hash: string;
  user_sub: string;
  /** Exactly one of staff_role and customer_id is set. */
  staff_role: StaffMemberRecord['role'] | null;
  customer_id: Int8 | null;
  expires_at: Date;
  created_at: Date;
}

export interface DeliveryZoneRecord {
  restaurant_id: Int8;
  id: Int8;
  name: string;
  /** jsonb: a radius around a point or a polygon ring, validated by the delivery-zones module's schema. */
  shape: unknown;
  fee_cents: number;
  min_subtotal_cents: number;
  free_over_cents: number | null;
  priority: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface CouponRecord {
  restaurant_id: Int8;
  id: Int8;
  code: string;
  kind: 'percent' | 'amount';
  /** A decimal kept as text (exactly as the manager wrote it); set only for kind 'percent'. */
  percent: string | null;
  /** Set only for kind 'amount'. */
  amount_cents: number | null;
  min_subtotal_cents: number;
  starts_at: Date | null;
  ends_at: Date | null;
  max_redemptions: number | null;
  max_per_customer: number | null;
  /** text[]: an array on both drivers. */
  fulfillment: Array<OrderRecord['fulfillment']>;
  redemptions_count: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** What the coupons repo writes: the window as ISO 8601 text (Postgres parses it), the fulfillment also as a text[] literal. */
export interface CouponWrite extends Omit<CouponRecord, 'starts_at' | 'ends_at' | 'fulfillment'> {
  starts_at: Date | string | null;
  ends_at: Date | string | null;
  fulfillment: CouponRecord['fulfillment'] | string;
}

export interface CouponCustomerRedemptionRecord {
  restaurant_id: Int8;
  coupon_id: Int8;
  customer_id: Int8;
  redemptions_count: number;
}

export interface CouponRedemptionRecord {
  restaurant_id: Int8;
  id: Int8;
  coupon_id: Int8;
  order_id: Int8;
  customer_id: Int8;
  discount_cents: number;
  created_at: Date;
  /** Set once, when the redemption is given back. */
  released_at: Date | null;
}

export interface WebhookEndpointRecord {
  restaurant_id: Int8;
  id: Int8;
  url: string;
  /** text[]: the event types subscribed to. */
  events: string[];
  enabled: boolean;
  secret: string;
  failing_since: Date | null;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookEventRecord {
  restaurant_id: Int8;
  id: Int8;
  type:
    | 'order.placed'
    | 'order.updated'
    | 'order.paid'
    | 'order.refunded'
    | 'ingredient.low_stock'
    | 'ingredient.out_of_stock'
    | 'restaurant.paused'
    | 'restaurant.resumed';
  /** json (not jsonb, so the key order and the bytes sent stay the same on every retry). */
  data: unknown;
  order_event_id: Int8 | null;
  created_at: Date;
}

export interface WebhookDeliveryRecord {
  restaurant_id: Int8;
  id: Int8;
  endpoint_id: Int8;
  event_id: Int8;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  /** Set exactly while pending. */
  next_attempt_at: Date | null;
  /** The claim of the attempt in progress: both set or both null. */
  attempt_token: string | null;
  claimed_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookOrderCursorRecord {
  restaurant_id: Int8;
  last_feed_seq: Int8;
  updated_at: Date;
}
