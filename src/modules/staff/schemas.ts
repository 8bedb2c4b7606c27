import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';

export const staffRoleSchema = z.enum(['manager', 'kitchen']).openapi('StaffRole', {
  description: 'manager: menu, inventory, staff, refunds and everything kitchen does; kitchen: see and move orders, adjust inventory',
});

export const staffMemberSchema = z
  .object({
    user_sub: z.string().openapi({ description: "The user's Cognito `sub`" }),
    email: z.string(),
    role: staffRoleSchema,
  })
  .openapi('StaffMember');

export const staffPageSchema = pageOf(staffMemberSchema).openapi('StaffPage');

export const staffListQuery = z.object({ ...pageQuery });

export const userSubParams = z.object({
  user_sub: z
    .string()
    .regex(/^[\w-]{1,128}$/, 'must be a Cognito sub')
    .openapi({ param: { description: "The user's Cognito `sub` (the `sub` claim of their tokens)" }, example: '3f1c7a2e-9b4d-4c1e-8f2a-1d5e6b7c8a90' }),
});

export const staffRoleBody = z.object({ role: staffRoleSchema }).strict().openapi('StaffRoleChange');
