import type { Knex } from 'knex';
import { deleteInBatches } from '../../db/batch-delete.js';

/**
 * How long a slot's count is kept after the slot began. Past slots are never offered again; a late cancel
 * of an order in a swept slot releases nothing (`releaseSlot` finds no row), which frees no future place.
 */
export const SLOT_BOOKING_RETENTION_DAYS = 7;

export async function sweepPastSlotBookings(db: Knex, now: Date): Promise<number> {
  const before = new Date(now.getTime() - SLOT_BOOKING_RETENTION_DAYS * 86_400_000);
  return deleteInBatches(db, 'slot_bookings', 'slot_starts_at < ?', [before]);
}
