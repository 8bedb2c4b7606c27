import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from '../db/database.js';
import { AppError } from './errors.js';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../lib/idempotency.js';

/** A `running` key older than this belongs to a request that died (crash, timeout): a retry may take it over. */
const ABANDONED_AFTER_SECONDS = 120;

export interface IdempotencyScope {
  restaurantId: number;
  userSub: string;
  key: string;
}

export type IdempotencyStart = { kind: 'new' } | { kind: 'replay'; status: number; body: unknown };

/** The key a client sent, validated: required, 1-255 visible ASCII characters. */
export function idempotencyKeyOf(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new AppError('idempotency_key_required', 400, 'Send an Idempotency-Key header (1-255 characters) so a retry cannot repeat this request');
  }
  // Inline, not a module constant: mutation testing credits code run at import to no test (README, "Development").
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new AppError('validation_failed', 400, 'The Idempotency-Key header must be 1-255 visible ASCII characters', [
      { path: 'headers.idempotency-key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return header;
}

/** What makes two requests "the same": method, route and body (keys sorted, so JSON key order does not matter). */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const scopeWhere = (scope: IdempotencyScope) => ({ restaurant_id: scope.restaurantId, user_sub: scope.userSub, key: scope.key });

/**
 * Claims the key for this request (Stripe's semantics, API.md "Idempotency"): the first request
 * inserts it and runs; a retry of a finished one gets the stored answer; a retry while the first is
 * still running gets 409 idempotency_key_in_use; the same key with another body gets 422.
 */
export async function beginIdempotentRequest(db: Knex, scope: IdempotencyScope, fingerprint: string): Promise<IdempotencyStart> {
  const inserted = await db('idempotency_keys')
    .insert({ ...scopeWhere(scope), request_hash: fingerprint, status: 'running', locked_at: db.fn.now() })
    .onConflict(['restaurant_id', 'user_sub', 'key'])
    .ignore()
    .returning('key')
    // The same text for every new key (every idempotent request runs it): planned once per connection.
    .options({ name: 'idempotency_claim' });
  if (inserted.length > 0) return { kind: 'new' };

  // The key was used before. If that was over 24 hours ago it is forgotten, so the client may use it again
  // (checked only here: a new key, the usual case, costs one statement).
  const expired = await db('idempotency_keys')
    .where(scopeWhere(scope))
    .where('created_at', '<', db.raw(`now() - make_interval(hours => ?)`, [IDEMPOTENCY_KEY_TTL_HOURS]))
    .delete()
    .returning('key');
  if (expired.length > 0) return beginIdempotentRequest(db, scope, fingerprint);

  const existing = await db('idempotency_keys').where(scopeWhere(scope)).first();
  if (existing === undefined) return beginIdempotentRequest(db, scope, fingerprint); // swept in between
  if (existing.request_hash !== fingerprint) {
    throw new AppError('idempotency_key_reused', 422, 'This Idempotency-Key was already used for a different request; use a new key');
  }
  if (existing.status === 'completed') return { kind: 'replay', status: Number(existing.response_code), body: existing.response_body };

  // Still running: genuinely in progress, or left behind by a request that died. Only the latter is taken over.
  const takenOver = await db('idempotency_keys')
    .where(scopeWhere(scope))
    .where({ status: 'running' })
    .where('locked_at', '<', db.raw(`now() - make_interval(secs => ?)`, [ABANDONED_AFTER_SECONDS]))
    .update({ locked_at: db.fn.now() })
    .returning('key');
  if (takenOver.length > 0) return { kind: 'new' };
  throw new AppError('idempotency_key_in_use', 409, 'A request with this Idempotency-Key is still being processed; retry shortly', undefined, {
    'Retry-After': '1',
  });
}

/**
 * Stores the answer. Called inside the request's own transaction where there is one, so the change
 * and its recorded answer commit together: a crash cannot leave an order without its stored reply.
 */
export async function completeIdempotentRequest(db: Queryable, scope: IdempotencyScope, status: number, body: unknown): Promise<void> {
  await db('idempotency_keys')
    .where(scopeWhere(scope))
    .update({ status: 'completed', response_code: status, response_body: JSON.stringify(body ?? null), locked_at: null })
    .options({ name: 'idempotency_complete' });
}

/** Forgets a key whose request failed on our side (5xx), so the client's retry runs afresh. */
export async function releaseIdempotencyKey(db: Knex, scope: IdempotencyScope): Promise<void> {
  await db('idempotency_keys').where(scopeWhere(scope)).where({ status: 'running' }).delete();
}

/** Deletes keys past their 24 hours, a batch at a time; returns how many went. */
export async function sweepExpiredIdempotencyKeys(db: Knex, batchSize = 1000): Promise<number> {
  const result = await db.raw<{ rows: unknown[] }>(
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ?) LIMIT ?)
     RETURNING 1`,
    [IDEMPOTENCY_KEY_TTL_HOURS, batchSize],
  );
  return result.rows.length;
}
