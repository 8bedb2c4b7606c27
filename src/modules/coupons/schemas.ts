import { z } from '../../http/zod.js';
import { idValue } from '../../http/params.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { parsePercent } from '../pricing/arithmetic.js';
import { fulfillments, type Fulfillment } from '../pricing/price.js';
import { MAX_SETTING_CENTS, percentString } from '../pricing/schemas.js';

/** Letters, digits, `-` and `_`, 3 to 32 of them: a code survives being read out, typed on a phone, and lower-cased the same everywhere. */
export const COUPON_CODE = /^[A-Za-z0-9_-]{3,32}$/;
export const MAX_COUPON_LIMIT = 1_000_000_000;

const code = z
  .string()
  .trim()
  .regex(COUPON_CODE, 'must be 3 to 32 letters, digits, "-" or "_"')
  .openapi({ description: 'Unique among active coupons whatever the case; customers may type it in any case', example: 'WELCOME10' });

const percent = percentString
  .refine((text) => parsePercent(text) !== 0n, 'must be more than 0')
  .openapi({ description: 'For kind percent: the share of the subtotal taken off, a decimal string, more than 0 and at most 100', example: '10' });

const amountCents = z.number().int().min(1).max(MAX_SETTING_CENTS).openapi({ description: 'For kind amount: taken off the subtotal (never more than it)' });
const minSubtotal = z
  .number()
  .int()
  .min(0)
  .max(MAX_SETTING_CENTS)
  .openapi({ description: 'The subtotal before the discount must be at least this (inclusive)' });
const instant = z.iso.datetime({ offset: true }).openapi({ description: 'An RFC 3339 instant', example: '2026-12-24T18:00:00Z' });
const limit = z.number().int().min(1).max(MAX_COUPON_LIMIT);
const fulfillmentList = z
  .array(z.enum(fulfillments() as [Fulfillment, ...Fulfillment[]]))
  .min(1)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a fulfillment')
  .openapi({ description: 'The orders it applies to (default both)', example: ['delivery'] });

export const couponKinds = ['percent', 'amount'] as const;
export type CouponKind = (typeof couponKinds)[number];

/** The fields of a coupon as it is stored, before the rules across fields are checked. */
export interface CouponFields {
  code: string;
  kind: CouponKind;
  percent: string | null;
  amount_cents: number | null;
  min_subtotal_cents: number;
  starts_at: string | null;
  ends_at: string | null;
  max_redemptions: number | null;
  max_per_customer: number | null;
  fulfillment: Fulfillment[];
}

/** The rules across fields, for a new coupon and for one as a change would leave it: paths name the fields. */
export function couponIssues(coupon: Omit<CouponFields, 'code'>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (coupon.kind === 'percent') {
    if (coupon.percent === null) issues.push({ path: 'percent', message: 'is required for a percent coupon' });
    if (coupon.amount_cents !== null) issues.push({ path: 'amount_cents', message: 'is for amount coupons; a percent coupon takes percent' });
  } else {
    if (coupon.amount_cents === null) issues.push({ path: 'amount_cents', message: 'is required for an amount coupon' });
    if (coupon.percent !== null) issues.push({ path: 'percent', message: 'is for percent coupons; an amount coupon takes amount_cents' });
  }
  if (coupon.starts_at !== null && coupon.ends_at !== null && Date.parse(coupon.ends_at) <= Date.parse(coupon.starts_at)) {
    issues.push({ path: 'ends_at', message: 'must be after starts_at' });
  }
  return issues;
}

export const createCouponBody = z
  .object({
    code,
    kind: z.enum(couponKinds),
    percent: percent.optional(),
    amount_cents: amountCents.optional(),
    min_subtotal_cents: minSubtotal.default(0),
    starts_at: instant.nullable().default(null).openapi({ description: 'Usable from this instant (inclusive); null: at once' }),
    ends_at: instant.nullable().default(null).openapi({ description: 'Usable until this instant (exclusive), after starts_at; null: no end' }),
    max_redemptions: limit.nullable().default(null).openapi({ description: 'Orders that may use it in all; null: no limit' }),
    max_per_customer: limit.nullable().default(null).openapi({ description: 'Orders one customer may use it on; null: no limit' }),
    fulfillment: fulfillmentList.default(() => [...fulfillments()]),
  })
  .strict()
  .superRefine((body, ctx) => {
    const issues = couponIssues({ ...body, percent: body.percent ?? null, amount_cents: body.amount_cents ?? null });
    for (const { path, message } of issues) ctx.addIssue({ code: 'custom', path: [path], message });
  })
  .openapi('CreateCoupon');

export const updateCouponBody = z
  .object({
    code: code.optional(),
    kind: z.enum(couponKinds).optional().openapi({ description: 'Changing the kind drops the value of the other kind: send the new one' }),
    percent: percent.nullable().optional(),
    amount_cents: amountCents.nullable().optional(),
    min_subtotal_cents: minSubtotal.optional(),
    starts_at: instant.nullable().optional(),
    ends_at: instant.nullable().optional(),
    max_redemptions: limit.nullable().optional().openapi({ description: 'May be set below the redemptions already counted: no more are then allowed' }),
    max_per_customer: limit.nullable().optional(),
    fulfillment: fulfillmentList.optional(),
  })
  .strict()
  .openapi('UpdateCoupon', { description: 'The fields to change; null clears an optional one' });

export const couponSchema = z
  .object({
    id: idValue,
    code: z.string(),
    kind: z.enum(couponKinds),
    percent: z.string().nullable(),
    amount_cents: z.number().int().nullable(),
    min_subtotal_cents: z.number().int(),
    starts_at: z.string().nullable(),
    ends_at: z.string().nullable(),
    max_redemptions: z.number().int().nullable(),
    max_per_customer: z.number().int().nullable(),
    fulfillment: z.array(z.enum(fulfillments() as [Fulfillment, ...Fulfillment[]])),
    redemptions_count: z.number().int().openapi({ description: 'Orders using it now (a rejected or cancelled order gives its redemption back)' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .strict()
  .openapi('Coupon');

export const redemptionSchema = z
  .object({
    order_id: idValue,
    customer_id: idValue,
    discount_cents: z.number().int(),
    created_at: z.string(),
    released_at: z.string().nullable().openapi({ description: 'When the order was rejected or cancelled and gave the redemption back; null while it counts' }),
  })
  .strict()
  .openapi('CouponRedemption');

export const couponPageSchema = pageOf(couponSchema).openapi('CouponPage');
export const redemptionPageSchema = pageOf(redemptionSchema).openapi('CouponRedemptionPage');
export const listQuery = z.object(pageQuery);

export type CreateCouponInput = z.infer<typeof createCouponBody>;
export type UpdateCouponInput = z.infer<typeof updateCouponBody>;
export type Coupon = z.infer<typeof couponSchema>;
export type CouponRedemption = z.infer<typeof redemptionSchema>;
