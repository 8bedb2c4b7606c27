import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idParams } from '../../http/params.js';
import { couponPageSchema, couponSchema, createCouponBody, listQuery, redemptionPageSchema, updateCouponBody } from './schemas.js';
import * as coupons from './service.js';

const tags = ['coupons'];

export function registerCouponRoutes(api: ApiRouter): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/coupons',
    summary: 'List the active coupons, newest first (manager)',
    description: 'Coupons that are not archived, with their rules and how often each has been redeemed.',
    tags,
    access: access.manager,
    query: listQuery,
    responses: { 200: { description: 'A page of coupons', schema: couponPageSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: await coupons.listCoupons(api.deps.db, tenant.id, query) }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/coupons/{id}',
    summary: 'One active coupon (manager)',
    description: 'A coupon with its rules and its redemption count; an archived one is 404.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 200: { description: 'The coupon', schema: couponSchema } },
    handler: async ({ tenant, params }) => ({ status: 200, body: await coupons.getCoupon(api.deps.db, tenant.id, params.id) }),
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/coupons',
    summary: 'Create a coupon (manager)',
    description:
      'Codes are 3-32 letters, digits, - or _, unique per restaurant whatever the case. percent (a decimal string) or amount_cents; an optional validity window in instants, limits in total and per customer, a minimum subtotal and fulfillments.',
    tags,
    access: access.manager,
    body: createCouponBody,
    responses: {
      201: { description: 'The coupon', schema: couponSchema },
    },
    errors: { conflict: 'An active coupon already has this code, whatever the case' },
    handler: async ({ tenant, body }) => ({ status: 201, body: await coupons.createCoupon(api.deps.db, tenant.id, body) }),
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/coupons/{id}',
    summary: 'Change a coupon (manager)',
    description: 'Changes the fields sent; the rules apply to orders placed from now on. Redemptions already counted stay counted.',
    tags,
    access: access.manager,
    params: idParams,
    body: updateCouponBody,
    responses: {
      200: { description: 'The coupon', schema: couponSchema },
    },
    errors: { conflict: 'An active coupon already has this code, whatever the case' },
    handler: async ({ tenant, params, body }) => ({ status: 200, body: await coupons.updateCoupon(api.deps.db, tenant.id, params.id, body) }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/coupons/{id}',
    summary: 'Archive a coupon (manager): orders can no longer use it',
    description: 'An archived coupon is unknown to quotes and orders; its redemptions stay listed.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Archived: its code is unknown to orders and free for a new coupon' } },
    handler: async ({ tenant, params }) => {
      await coupons.archiveCoupon(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/coupons/{id}/redemptions',
    summary: 'The orders that used a coupon, newest first (manager)',
    description: 'Each redemption names its order and customer and the discount it gave; one given back by a rejected or cancelled order carries released_at.',
    tags,
    access: access.manager,
    params: idParams,
    query: listQuery,
    responses: { 200: { description: 'A page of redemptions, given-back ones included (with released_at)', schema: redemptionPageSchema } },
    handler: async ({ tenant, params, query }) => ({ status: 200, body: await coupons.listRedemptions(api.deps.db, tenant.id, params.id, query) }),
  });
}
