import { conflict } from './errors.js';

/** Money is integer minor units (cents); this is the largest amount one order can hold (orders.total_cents is integer). */
export const MAX_ORDER_CENTS = 2_147_483_647;

/** price × quantity, summed over lines, in integer cents. */
export function sumLineTotals(lines: ReadonlyArray<{ unitPriceCents: number; quantity: number }>): number {
  return lines.reduce((sum, line) => sum + line.unitPriceCents * line.quantity, 0);
}

/** Refuses a total one order cannot hold (409), so it never reaches the database as an overflow. */
export function assertOrderTotalFits(totalCents: number): void {
  if (totalCents > MAX_ORDER_CENTS) throw conflict('The order total is larger than one order can hold; split it');
}
