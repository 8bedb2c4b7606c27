import type { Knex } from 'knex';

/**
 * The tables' columns as the migrations declare them, for knex's type checking (`tables-augment.ts`):
 * a wrong column name in `db('ingredients').where(...)`, an insert or an update fails to compile. `bigint` columns read as
 * `Int8`: pg returns them as strings and PGlite as numbers, so repos convert them (`Number(...)`) at
 * the edge and both databases give the same plain objects. `timestamptz` reads as Date on both.
 */
export type Int8 = number | string;

/** Select shape, insert shape (defaults and identities optional), update shape (any subset). */
export type Table<Row, Required extends keyof Row> = Knex.CompositeTableType<
  Row,
  Pick<Row, Required> & Partial<Omit<Row, Required>> & { [K in keyof Row]?: Row[K] | Knex.Raw },
  { [K in keyof Row]?: Row[K] | Knex.Raw }
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
  created_at: Date;
}
