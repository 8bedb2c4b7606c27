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
    tags,
    access: access.manager,
    body: createCouponBody,
    responses: {
      201: { description: 'The coupon', schema: couponSchema },
      409: { description: 'An active coupon already has this code, whatever the case (conflict)' },
    },
    handler: async ({ tenant, body }) => ({ status: 201, body: await coupons.createCoupon(api.deps.db, tenant.id, body) }),
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/coupons/{id}',
    summary: 'Change a coupon (manager)',
    tags,
    access: access.manager,
    params: idParams,
    body: updateCouponBody,
    responses: {
      200: { description: 'The coupon', schema: couponSchema },
      409: { description: 'An active coupon already has this code, whatever the case (conflict)' },
    },
    handler: async ({ tenant, params, body }) => ({ status: 200, body: await coupons.updateCoupon(api.deps.db, tenant.id, params.id, body) }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/coupons/{id}',
    summary: 'Archive a coupon (manager): orders can no longer use it',
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
    summary: "The orders that used a coupon, newest first (manager)",
    tags,
    access: access.manager,
    params: idParams,
    query: listQuery,
    responses: { 200: { description: 'A page of redemptions, given-back ones included (with released_at)', schema: redemptionPageSchema } },
    handler: async ({ tenant, params, query }) => ({ status: 200, body: await coupons.listRedemptions(api.deps.db, tenant.id, params.id, query) }),
  });
}
