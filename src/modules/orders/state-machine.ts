/**
 * The order state machine of API.md, in one place. Every move is a conditional update from the
 * statuses this table allows (see `transitionOrder`), so two people acting at once cannot both succeed.
 */
export const orderStatuses = ['pending', 'confirmed', 'preparing', 'ready', 'completed', 'rejected', 'cancelled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export const orderActors = ['customer', 'staff', 'system'] as const;
export type OrderActor = (typeof orderActors)[number];

const allowed: Record<OrderStatus, Partial<Record<OrderStatus, readonly OrderActor[]>>> = {
  pending: { confirmed: ['staff', 'system'], rejected: ['staff'], cancelled: ['customer', 'staff', 'system'] },
  confirmed: { preparing: ['staff'], rejected: ['staff'], cancelled: ['staff'] },
  preparing: { ready: ['staff'] },
  ready: { completed: ['staff'] },
  completed: {},
  rejected: {},
  cancelled: {},
};

/** The statuses from which `actor` may move an order to `to` (empty: never). */
export function statusesAllowingMove(to: OrderStatus, actor: OrderActor): OrderStatus[] {
  return orderStatuses.filter((from) => allowed[from][to]?.includes(actor) === true);
}

export function canMove(from: OrderStatus, to: OrderStatus, actor: OrderActor): boolean {
  return allowed[from][to]?.includes(actor) === true;
}

/** Moves that give the reserved ingredients back to stock. */
export function releasesStock(to: OrderStatus): boolean {
  return to === 'rejected' || to === 'cancelled';
}
