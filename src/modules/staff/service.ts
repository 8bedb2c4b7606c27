import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import type { StaffRole } from '../../lib/identity.js';
import type { UserDirectory } from '../../lib/identity.js';
import * as repo from './repo.js';

export type StaffMember = repo.StaffMemberRow;

export async function listStaff(db: Queryable, restaurantId: number, options: { limit: number; cursor: string | undefined }): Promise<Page<StaffMember>> {
  const after = decodeCursor(options.cursor, ['string', 'string']) as [string, string] | undefined;
  const rows = await repo.selectStaffPage(db, restaurantId, { after, limit: options.limit + 1 });
  return pageFrom(
    rows,
    options.limit,
    (row) => [row.email, row.user_sub],
    (row) => row,
  );
}

const lastManager = () =>
  conflict('This is the last manager of the restaurant: make someone else manager first', [{ path: 'role', message: 'the restaurant needs a manager' }]);

/**
 * Gives a user of the pool a role here (PUT: adds or changes). The user must exist in the user pool; their
 * email is taken from it. Demoting the last manager is refused.
 */
export async function setStaffRole(
  db: Knex,
  directory: UserDirectory,
  restaurantId: number,
  userSub: string,
  role: StaffRole,
): Promise<{ member: StaffMember; created: boolean }> {
  // Looked up before the transaction: no network call while rows are locked.
  const user = await directory.findUser(userSub);
  // AdminGetUser also accepts an email or a username: only the exact sub names this user.
  if (user === undefined || user.sub !== userSub) throw notFound('The user');
  if (user.email === undefined) throw new AppError('conflict', 409, 'The user has no email address in the user pool');
  const member: StaffMember = { user_sub: userSub, email: user.email, role };
  return withTransaction(db, async (trx) => {
    const managers = await repo.lockManagers(trx, restaurantId);
    const existing = await repo.selectStaffMember(trx, restaurantId, userSub);
    if (existing?.role === 'manager' && role !== 'manager' && managers.length <= 1) throw lastManager();
    await repo.upsertStaffMember(trx, restaurantId, member);
    return { member, created: existing === undefined };
  });
}

export async function removeStaffMember(db: Knex, restaurantId: number, userSub: string): Promise<void> {
  await withTransaction(db, async (trx) => {
    const managers = await repo.lockManagers(trx, restaurantId);
    const existing = await repo.selectStaffMember(trx, restaurantId, userSub);
    if (existing === undefined) throw notFound('The staff member');
    if (existing.role === 'manager' && managers.length <= 1) throw lastManager();
    await repo.deleteStaffMember(trx, restaurantId, userSub);
  });
}

/** For the restaurants module: the first manager, inside the transaction that creates the restaurant. */
export async function addManager(trx: Knex.Transaction, restaurantId: number, user: { sub: string; email: string }): Promise<void> {
  await repo.upsertStaffMember(trx, restaurantId, { user_sub: user.sub, email: user.email, role: 'manager' });
}

/** The caller's role in a restaurant, if any: what authorisation asks on every staff route. */
export async function staffRoleOf(db: Queryable, restaurantId: number, userSub: string): Promise<StaffRole | undefined> {
  return repo.selectStaffRole(db, restaurantId, userSub);
}
