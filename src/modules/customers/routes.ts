import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idParams } from '../../http/params.js';
import type { UserDirectory } from '../../lib/identity.js';
import { customerListQuery, customerPageSchema, customerSchema, customerUpdateSchema } from './schemas.js';
import { customerForPrincipal, customerView, getCustomer, listCustomers, updateOwnCustomer } from './service.js';

export function registerCustomerRoutes(api: ApiRouter, directory: UserDirectory): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/customers/me',
    summary: "The caller's customer record in this restaurant (created on first use)",
    description: "Email, name and phone come from the user pool the first time; after that the record is the restaurant's own.",
    tags: ['customers'],
    access: access.signedIn,
    responses: { 200: { description: 'The customer', schema: customerSchema } },
    handler: async ({ tenant, principal }) => ({
      status: 200,
      body: customerView(await customerForPrincipal(api.deps.db, directory, tenant.id, principal)),
    }),
  });

  defineRoute(api, {
    method: 'put',
    path: '/v1/customers/me',
    summary: "Change the caller's name, phone, address or menu preferences in this restaurant",
    description:
      'Only the fields sent change; null clears one. The saved address is the default for delivery orders; saved preferences (allergens to avoid, diets) filter the menu this customer sees.',
    tags: ['customers'],
    access: access.signedIn,
    body: customerUpdateSchema,
    responses: { 200: { description: 'The customer as it now stands', schema: customerSchema } },
    handler: async ({ tenant, principal, body }) => ({
      status: 200,
      body: customerView(await updateOwnCustomer(api.deps.db, directory, tenant.id, principal, body)),
    }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/customers',
    summary: "This restaurant's customers, newest first (staff)",
    description: '`search` matches name, email and phone, case-insensitive.',
    tags: ['customers'],
    access: access.staff,
    query: customerListQuery,
    responses: { 200: { description: 'A page of customers', schema: customerPageSchema } },
    handler: async ({ tenant, query }) => ({
      status: 200,
      body: await listCustomers(api.deps.db, tenant.id, { search: query.search, limit: query.limit, cursor: query.cursor }),
    }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/customers/{id}',
    summary: 'One customer (staff; a customer may read only their own record, any other id is 404)',
    description: 'Staff read any customer of this restaurant; a customer asking for someone else gets 404, exactly as for an id that does not exist.',
    tags: ['customers'],
    access: access.signedIn,
    params: idParams,
    responses: { 200: { description: 'The customer', schema: customerSchema } },
    handler: async ({ tenant, params, principal, staffRole }) => ({
      status: 200,
      body: customerView(await getCustomer(api.deps.db, tenant.id, params.id, { principal: principal, staffRole })),
    }),
  });
}
