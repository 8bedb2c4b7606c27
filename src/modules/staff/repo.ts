import type { Queryable } from '../../db/database.js';
import type { StaffMemberRecord } from '../../db/tables.js';
import type { StaffRole } from '../../lib/identity.js';

export interface StaffMemberRow {
  user_sub: string;
  email: string;
  role: StaffRole;
}

function toStaffMember(row: Pick<StaffMemberRecord, 'user_sub' | 'email' | 'role'>): StaffMemberRow {
  return { user_sub: row.user_sub, email: row.email, role: row.role };
}

export async function selectStaffMember(db: Queryable, restaurantId: number, userSub: string): Promise<StaffMemberRow | undefined> {
  const row = await db('staff_members').select('user_sub', 'email', 'role').where({ restaurant_id: restaurantId, user_sub: userSub }).first();
  return row === undefined ? undefined : toStaffMember(row);
}

export async function selectStaffRole(db: Queryable, restaurantId: number, userSub: string): Promise<StaffRole | undefined> {
  const row = await db('staff_members').select('role').where({ restaurant_id: restaurantId, user_sub: userSub }).first();
  return row?.role;
}

/** Ordered by email, then sub (the keyset). */
export async function selectStaffPage(
  db: Queryable,
  restaurantId: number,
  options: { after: [string, string] | undefined; limit: number },
): Promise<StaffMemberRow[]> {
  const query = db('staff_members').select('user_sub', 'email', 'role').where({ restaurant_id: restaurantId });
  if (options.after !== undefined) query.andWhereRaw('(email, user_sub) > (?, ?)', options.after);
  const rows = await query.orderBy([{ column: 'email' }, { column: 'user_sub' }]).limit(options.limit);
  return rows.map(toStaffMember);
}

/**
 * Locks this restaurant's manager rows, in a fixed order, for the rest of the transaction and returns their
 * subs. Two managers demoting or removing each other at once then run one after the other, and the second
 * sees the first's change (Postgres re-checks a locked row's `role` once the lock is free), so the
 * restaurant is never left without a manager.
 */
export async function lockManagers(db: Queryable, restaurantId: number): Promise<string[]> {
  const rows = await db('staff_members').select('user_sub').where({ restaurant_id: restaurantId, role: 'manager' }).orderBy('user_sub').forUpdate();
  return rows.map((row) => row.user_sub);
}

export async function upsertStaffMember(db: Queryable, restaurantId: number, member: StaffMemberRow): Promise<void> {
  await db('staff_members')
    .insert({ restaurant_id: restaurantId, ...member })
    .onConflict(['restaurant_id', 'user_sub'])
    .merge({ email: member.email, role: member.role, updated_at: db.fn.now() });
}

export async function deleteStaffMember(db: Queryable, restaurantId: number, userSub: string): Promise<boolean> {
  const deleted = await db('staff_members').where({ restaurant_id: restaurantId, user_sub: userSub }).delete();
  return deleted > 0;
}
