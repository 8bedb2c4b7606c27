import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header every delivery carries (API.md): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = 'Tablekit-Signature';
export const EVENT_ID_HEADER = 'Tablekit-Event-Id';

/** A new endpoint's signing secret: 32 random bytes, 49 characters with its prefix. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

const hmac = (secret: string, timestamp: number, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, body)}`;
}

/**
 * What a receiver does with a delivery (and what the tests do): true when one of the header's `v1`
 * signatures is the body's under `secret` and its `t` is within `toleranceSeconds` of now, so a
 * captured request cannot be replayed later. Compared in constant time.
 */
export function verifySignature(secret: string, header: string, body: string, options: { nowSeconds: number; toleranceSeconds?: number }): boolean {
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([key]) => key === 't').map(([, value]) => value ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0] ?? '')) return false;
  const timestamp = Number(timestamps[0]);
  if (Math.abs(options.nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  return parts
    .filter(([key, value]) => key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value))
    .some(([, value]) => timingSafeEqual(Buffer.from(value ?? '', 'hex'), expected));
}
