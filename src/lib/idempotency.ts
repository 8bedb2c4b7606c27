/** Stored answers to an Idempotency-Key are replayed for this long; after it a key may be used afresh (API.md "Idempotency"). */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
