/**
 * The order state machine of API.md, in one place. Every move is a conditional update from the
 * statuses `movesFrom` allows (see `moveOrder`), so two people acting at once cannot both succeed.
 */
export const orderStatuses = ['pending', 'confirmed', 'preparing', 'ready', 'completed', 'rejected', 'cancelled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export const orderActors = ['customer', 'staff', 'system'] as const;
export type OrderActor = (typeof orderActors)[number];

/**
 * Who may move an order from `from` to each status (API.md "Orders"). A function rather than a module
 * table: mutation testing credits code that runs at import to no test, so a table's mutants would each
 * re-run every test instead of the few that read it (README, "Development").
 */
function movesFrom(from: OrderStatus): Partial<Record<OrderStatus, readonly OrderActor[]>> {
  switch (from) {
    case 'pending':
      return { confirmed: ['staff', 'system'], rejected: ['staff'], cancelled: ['customer', 'staff', 'system'] };
    case 'confirmed':
      return { preparing: ['staff'], rejected: ['staff'], cancelled: ['staff'] };
    case 'preparing':
      return { ready: ['staff'] };
    case 'ready':
      return { completed: ['staff'] };
    case 'completed':
    case 'rejected':
    case 'cancelled':
      return {};
  }
}

/** The statuses from which `actor` may move an order to `to` (empty: never). */
export function statusesAllowingMove(to: OrderStatus, actor: OrderActor): OrderStatus[] {
  return orderStatuses.filter((from) => movesFrom(from)[to]?.includes(actor) === true);
}

/** Moves that give the reserved ingredients back to stock. */
export function releasesStock(to: OrderStatus): boolean {
  return to === 'rejected' || to === 'cancelled';
}
