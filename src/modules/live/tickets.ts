import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/database.js';
import type { StaffRole } from '../../lib/identity.js';
import { deleteExpiredStreamTickets, deleteValidStreamTicket, insertStreamTicket } from './repo.js';

export const STREAM_TICKET_TTL_MS = 60_000;

/** Whom a stream is for: staff see the restaurant's orders, a customer only their own. */
export type StreamViewer = { kind: 'staff'; sub: string; role: StaffRole } | { kind: 'customer'; sub: string; customerId: number };

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

/** `<restaurant id>.<256 random bits>`: the prefix finds the row by its primary key, the rest is the secret. */
const TICKET = /^([1-9][0-9]{0,15})\.[A-Za-z0-9_-]{43}$/;

/** The restaurant a ticket says it is for, or undefined when it is not shaped like one of ours. */
export function restaurantOfTicket(ticket: string): number | undefined {
  const match = TICKET.exec(ticket);
  return match === null ? undefined : Number(match[1]);
}

export async function issueStreamTicket(db: Queryable, restaurantId: number, viewer: StreamViewer, now: Date): Promise<{ ticket: string; expires_at: string }> {
  const ticket = `${restaurantId}.${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + STREAM_TICKET_TTL_MS);
  await deleteExpiredStreamTickets(db, now);
  await insertStreamTicket(db, {
    restaurantId,
    ticketHash: hashOf(ticket),
    userSub: viewer.sub,
    staffRole: viewer.kind === 'staff' ? viewer.role : null,
    customerId: viewer.kind === 'customer' ? viewer.customerId : null,
    expiresAt,
  });
  return { ticket, expires_at: expiresAt.toISOString() };
}

/** The viewer the ticket was issued to, once: a used, expired or unknown ticket is undefined. */
export async function redeemStreamTicket(db: Queryable, ticket: string, now: Date): Promise<{ restaurantId: number; viewer: StreamViewer } | undefined> {
  const restaurantId = restaurantOfTicket(ticket);
  if (restaurantId === undefined) return undefined;
  const row = await deleteValidStreamTicket(db, restaurantId, hashOf(ticket), now);
  if (row === undefined) return undefined;
  const viewer: StreamViewer =
    row.staffRole !== null
      ? { kind: 'staff', sub: row.userSub, role: row.staffRole }
      : { kind: 'customer', sub: row.userSub, customerId: Number(row.customerId) };
  return { restaurantId, viewer };
}
