import type {
  RestaurantRecord,
  StaffMemberRecord,
  IngredientRecord,
  RecipeRecord,
  RecipeIngredientRecord,
  RecipeOptionGroupRecord,
  RecipeOptionRecord,
  RecipeOptionIngredientRecord,
  CartItemOptionRecord,
  OrderItemOptionRecord,
  InventoryMovementRecord,
  CartItemRecord,
  CartItemIngredientRecord,
  OrderRecord,
  OrderItemRecord,
  OrderItemIngredientRecord,
  OrderEventRecord,
  CustomerRecord,
  PaymentRecord,
  RefundRecord,
  PaymentWebhookEventRecord,
  IdempotencyKeyRecord,
  OutboxRecord,
  ScheduleSettingsRecord,
  OpeningRangeRecord,
  RestaurantClosureRecord,
  RestaurantClosureWrite,
  OrderingPauseRecord,
  SlotBookingRecord,
  RestaurantPricingRecord,
  RateLimitCounterRecord,
  StreamTicketRecord,
  DeliveryZoneRecord,
  CouponRecord,
  CouponWrite,
  CouponCustomerRedemptionRecord,
  CouponRedemptionRecord,
  WebhookEndpointRecord,
  WebhookEventRecord,
  WebhookDeliveryRecord,
  WebhookOrderCursorRecord,
  Table,
} from './tables.js';

/**
 * Types knex's table names and columns for the service's own code (`tsconfig.json` includes this file).
 * The test and bench programs leave it out (their tsconfig `exclude`): tests read the tables raw to
 * assert what was written, and their untyped reads are not a module boundary.
 */
declare module 'knex/types/tables.js' {
  interface Tables {
    restaurants: Table<RestaurantRecord, 'domain' | 'name' | 'currency' | 'timezone'>;
    staff_members: Table<StaffMemberRecord, 'restaurant_id' | 'user_sub' | 'email' | 'role'>;
    ingredients: Table<IngredientRecord, 'restaurant_id' | 'name' | 'unit' | 'price_cents'>;
    recipes: Table<RecipeRecord, 'restaurant_id' | 'name'>;
    recipe_ingredients: Table<RecipeIngredientRecord, 'restaurant_id' | 'recipe_id' | 'ingredient_id' | 'quantity'>;
    recipe_option_groups: Table<RecipeOptionGroupRecord, 'restaurant_id' | 'recipe_id' | 'name' | 'min_select' | 'max_select' | 'position'>;
    recipe_options: Table<RecipeOptionRecord, 'restaurant_id' | 'recipe_id' | 'group_id' | 'name' | 'price_cents' | 'position'>;
    recipe_option_ingredients: Table<RecipeOptionIngredientRecord, 'restaurant_id' | 'option_id' | 'ingredient_id' | 'quantity'>;
    inventory_movements: Table<InventoryMovementRecord, 'restaurant_id' | 'ingredient_id' | 'delta' | 'reason' | 'stock_after'>;
    cart_items: Table<CartItemRecord, 'restaurant_id' | 'customer_id' | 'recipe_id' | 'quantity'>;
    cart_item_ingredients: Table<CartItemIngredientRecord, 'restaurant_id' | 'cart_item_id' | 'ingredient_id' | 'quantity'>;
    cart_item_options: Table<CartItemOptionRecord, 'restaurant_id' | 'cart_item_id' | 'option_id'>;
    orders: Table<OrderRecord, 'restaurant_id' | 'customer_id' | 'payment_method' | 'fulfillment' | 'currency' | 'total_cents'>;
    order_items: Table<OrderItemRecord, 'restaurant_id' | 'order_id' | 'recipe_id' | 'name' | 'quantity' | 'unit_price_cents' | 'line_total_cents'>;
    order_item_ingredients: Table<OrderItemIngredientRecord, 'restaurant_id' | 'order_item_id' | 'ingredient_id' | 'quantity'>;
    order_item_options: Table<OrderItemOptionRecord, 'restaurant_id' | 'order_item_id' | 'option_id' | 'name' | 'price_cents' | 'position'>;
    order_events: Table<OrderEventRecord, 'restaurant_id' | 'order_id' | 'status' | 'actor'>;
    customers: Table<CustomerRecord, 'restaurant_id' | 'user_sub'>;
    payments: Table<PaymentRecord, 'restaurant_id' | 'order_id' | 'method' | 'provider' | 'status' | 'amount_cents' | 'currency'>;
    refunds: Table<RefundRecord, 'restaurant_id' | 'payment_id' | 'amount_cents' | 'status'>;
    payment_webhook_events: Table<PaymentWebhookEventRecord, 'provider' | 'event_id' | 'type'>;
    idempotency_keys: Table<IdempotencyKeyRecord, 'restaurant_id' | 'user_sub' | 'key' | 'request_hash'>;
    outbox: Table<OutboxRecord, 'restaurant_id' | 'type' | 'payload'>;
    schedule_settings: Table<ScheduleSettingsRecord, 'restaurant_id' | 'lead_time_minutes' | 'slot_minutes' | 'order_ahead_days'>;
    opening_ranges: Table<OpeningRangeRecord, 'restaurant_id' | 'iso_weekday' | 'opens_minute' | 'closes_minute'>;
    restaurant_closures: Table<RestaurantClosureRecord, 'restaurant_id' | 'starts_on' | 'ends_on', RestaurantClosureWrite>;
    ordering_pauses: Table<OrderingPauseRecord, 'restaurant_id' | 'paused_until' | 'paused_by'>;
    slot_bookings: Table<SlotBookingRecord, 'restaurant_id' | 'slot_starts_at' | 'orders_count'>;
    restaurant_pricing: Table<RestaurantPricingRecord, 'restaurant_id' | 'settings'>;
    rate_limit_counters: Table<RateLimitCounterRecord, 'key' | 'hits' | 'reset_at'>;
    stream_tickets: Table<StreamTicketRecord, 'restaurant_id' | 'ticket_hash' | 'user_sub' | 'expires_at'>;
    delivery_zones: Table<DeliveryZoneRecord, 'restaurant_id' | 'name' | 'shape' | 'fee_cents' | 'min_subtotal_cents'>;
    coupons: Table<CouponRecord, 'restaurant_id' | 'code' | 'kind', CouponWrite>;
    coupon_customer_redemptions: Table<CouponCustomerRedemptionRecord, 'restaurant_id' | 'coupon_id' | 'customer_id' | 'redemptions_count'>;
    coupon_redemptions: Table<CouponRedemptionRecord, 'restaurant_id' | 'coupon_id' | 'order_id' | 'customer_id' | 'discount_cents'>;
    webhook_endpoints: Table<WebhookEndpointRecord, 'restaurant_id' | 'url' | 'events' | 'secret'>;
    webhook_events: Table<WebhookEventRecord, 'restaurant_id' | 'type' | 'data'>;
    webhook_deliveries: Table<WebhookDeliveryRecord, 'restaurant_id' | 'endpoint_id' | 'event_id'>;
    webhook_order_cursors: Table<WebhookOrderCursorRecord, 'restaurant_id' | 'last_feed_seq'>;
  }
}
