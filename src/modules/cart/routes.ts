import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { createCustomerIds } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { addCartItemBody, cartItemSchema, cartSchema, updateCartItemBody } from './schemas.js';
import * as cart from './service.js';

const tags = ['cart'];

export function registerCartRoutes(api: ApiRouter, directory: UserDirectory): void {
  const customerIds = createCustomerIds(directory);
  const customerOf = (tenantId: number, principal: Parameters<typeof customerIds.idFor>[2]) => customerIds.idFor(api.deps.db, tenantId, principal);

  defineRoute(api, {
    method: 'get',
    path: '/v1/cart',
    summary: "The caller's cart in this restaurant, at today's prices",
    description:
      'Each line is priced now and says whether it can be ordered now (`available`) and, when not, why (`unavailable_reason`). `total_cents` counts the lines still on the menu.',
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    responses: { 200: { description: 'The cart', schema: cartSchema } },
    handler: async ({ tenant, principal, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      return { status: 200, body: await cart.getCart(api.deps.db, tenant.id, await customerOf(tenant.id, principal)) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/cart/items',
    summary: 'Add a recipe to the cart (an identical line gets the extra portions)',
    description:
      'A dish that cannot be made now (sold out, an ingredient switched off) is still added, with `available: false` and the reason; checkout refuses it until it can be made. Customisations are checked against the recipe.',
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    body: addCartItemBody,
    responses: { 201: { description: 'The line', schema: cartItemSchema } },
    handler: async ({ tenant, principal, body }) => ({
      status: 201,
      body: await cart.addCartItem(api.deps.db, tenant.id, await customerOf(tenant.id, principal), body),
    }),
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/cart/items/{id}',
    summary: 'Change the portions or the customisations of a cart line',
    description: "Only what is sent changes; `customizations` replaces the line's set.",
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    params: idParams,
    body: updateCartItemBody,
    responses: { 200: { description: 'The line as it now stands', schema: cartItemSchema } },
    handler: async ({ tenant, principal, params, body }) => ({
      status: 200,
      body: await cart.updateCartItem(api.deps.db, tenant.id, await customerOf(tenant.id, principal), params.id, body),
    }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/cart/items/{id}',
    summary: 'Remove a line from the cart',
    description: "Another customer's line is 404, like one that does not exist.",
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    params: idParams,
    responses: { 204: { description: 'Removed' } },
    handler: async ({ tenant, principal, params }) => {
      await cart.removeCartItem(api.deps.db, tenant.id, await customerOf(tenant.id, principal), params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/cart',
    summary: 'Empty the cart',
    description: 'Removes every line; an empty cart stays empty.',
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    responses: { 204: { description: 'Emptied' } },
    handler: async ({ tenant, principal }) => {
      await cart.emptyCart(api.deps.db, tenant.id, await customerOf(tenant.id, principal));
      return { status: 204 };
    },
  });
}
