import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { staffListQuery, staffMemberSchema, staffPageSchema, staffRoleBody, userSubParams } from './schemas.js';
import { listStaff, removeStaffMember, setStaffRole } from './service.js';

export function registerStaffRoutes(api: ApiRouter, directory: UserDirectory): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/staff',
    summary: "This restaurant's staff and their roles, by email (manager)",
    description: 'Every user with a role in this restaurant, as a keyset page ordered by email.',
    tags: ['staff'],
    access: access.manager,
    query: staffListQuery,
    responses: { 200: { description: 'A page of staff members', schema: staffPageSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: await listStaff(api.deps.db, tenant.id, { limit: query.limit, cursor: query.cursor }) }),
  });

  defineRoute(api, {
    method: 'put',
    path: '/v1/staff/{user_sub}',
    summary: 'Give a user of the pool a role here, or change it (manager); the last manager cannot be demoted',
    description: 'The user is named by their Cognito sub and must exist in the user pool. 201 when they join the staff, 200 when their role changes.',
    tags: ['staff'],
    access: access.manager,
    params: userSubParams,
    body: staffRoleBody,
    responses: {
      200: { description: 'Role changed', schema: staffMemberSchema },
      201: { description: 'Added to the staff', schema: staffMemberSchema },
    },
    errors: {
      not_found: 'No user with this sub in the user pool',
      conflict: 'It would leave the restaurant without a manager, or the user has no email',
      service_unavailable: 'The user pool cannot be reached',
    },
    handler: async ({ tenant, params, body }) => {
      const { member, created } = await setStaffRole(api.deps.db, directory, tenant.id, params.user_sub, body.role);
      return { status: created ? 201 : 200, body: member };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/staff/{user_sub}',
    summary: 'Remove a staff member (manager); the last manager cannot be removed',
    description: 'Takes away their role in this restaurant only; their account and their other roles stay.',
    tags: ['staff'],
    access: access.manager,
    params: userSubParams,
    responses: { 204: { description: 'Removed' } },
    errors: { not_found: 'No staff member with this sub here', conflict: 'It would leave the restaurant without a manager' },
    handler: async ({ tenant, params }) => {
      await removeStaffMember(api.deps.db, tenant.id, params.user_sub);
      return { status: 204 };
    },
  });
}
