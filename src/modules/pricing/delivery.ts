/**
 * A restaurant's (or, later, a delivery zone's) terms for delivery orders, read as API.md says: the
 * minimum and the free-delivery threshold are on the subtotal before any discount, and both boundaries
 * are inclusive (`subtotal ≥ minimum` passes, `subtotal ≥ free_over` delivers free).
 */
export interface DeliveryTermsRule {
  fee_cents: number;
  min_subtotal_cents: number;
  free_over_cents: number | null;
}

/** The delivery fee to pass to `priceOrder` for a delivery order with this subtotal. */
export function deliveryFeeCents(terms: DeliveryTermsRule, subtotalCents: number): number {
  return terms.free_over_cents !== null && subtotalCents >= terms.free_over_cents ? 0 : terms.fee_cents;
}

/** How much is missing to reach the minimum (the `shortfall_cents` of `422 below_minimum`); 0 when it is met. */
export function deliveryShortfallCents(terms: DeliveryTermsRule, subtotalCents: number): number {
  return Math.max(0, terms.min_subtotal_cents - subtotalCents);
}
