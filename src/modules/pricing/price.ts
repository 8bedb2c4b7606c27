import {
  HUNDRED_PERCENT,
  divideRounded,
  minorUnits,
  parsePercent,
  percentOf,
  spreadByLargestRemainder,
  toSafeNumber,
  type RoundingRule,
  type ScaledPercent,
} from './arithmetic.js';
import { invalidPricingInput } from './errors.js';

export type { RoundingRule } from './arithmetic.js';

/**
 * The one pricing function the quote and the order both call (API.md "Prices", DESIGN.md `pricing`):
 * pure (no I/O, no clock), integer-only, and deterministic, so what a customer is shown is what is charged.
 *
 * Order of operations: subtotal (the lines) → discount → service charges → taxes → tip.
 * - The discount is worked out on the subtotal (a percent is rounded once with the restaurant's rule), is
 *   capped at the subtotal, and is spread over the lines in proportion to their totals by largest
 *   remainder, so no line goes below zero and the line parts add up to it.
 * - Each service charge that applies to the fulfillment is worked out on the order (a percent of the
 *   subtotal after the discount, rounded once; or a fixed amount) and spread over the lines in proportion
 *   to their discounted amounts by largest remainder (equally when those are all zero).
 * - Tax is computed per line and per rate and rounded once per line and rate. A line's base is its
 *   discounted amount plus its share of the taxable service charges: a taxable charge is taxed at the
 *   rates of the lines it is spread over, as if it were part of their price (so under an inclusive rate
 *   the charge, like the price, already holds its tax). The delivery fee is taxed as one more base, by
 *   the rates with `applies_to_delivery_fee`.
 *   On one base, an exclusive rate r adds round(base × r / 100); an inclusive rate holds
 *   round(base × r / (100 + R)), where R is the sum of the inclusive rates on that base (with a single
 *   inclusive rate, the contract's round(gross × r / (100 + r))). Every rate is taken of the base as priced,
 *   so an inclusive rate never changes the total, whatever else applies. A rate's `taxable_cents` is the
 *   sum of the bases it covers.
 * - The tip is added last: never discounted, never taxed. A `tip_percent` is of the subtotal after the
 *   discount, rounded with the restaurant's rule.
 * total = subtotal − discount + service charges + delivery fee + exclusive taxes + tip.
 */

export type Fulfillment = 'pickup' | 'delivery';
export const fulfillments = (): readonly Fulfillment[] => ['pickup', 'delivery'];

/** A line as the cart or the order holds it: its id is handed back with its share of each part. */
export interface PricingLine {
  id: number | string;
  quantity: number;
  /** The line's price, all portions included, in minor units (inclusive taxes inside it). */
  line_total_cents: number;
}

export interface TaxRateRule {
  name: string;
  /** A decimal string, "8.875" for 8.875 %. */
  rate: string;
  inclusive: boolean;
  fulfillment: readonly Fulfillment[];
  applies_to_delivery_fee: boolean;
}

/** Exactly one of `percent` and `amount_cents`. */
export interface ServiceChargeRule {
  name: string;
  percent?: string | undefined;
  amount_cents?: number | undefined;
  fulfillment: readonly Fulfillment[];
  taxable: boolean;
}

/** The parts of a restaurant's pricing settings the arithmetic needs; `PricingSettings` is one. */
export interface PricingRules {
  tax_rates: readonly TaxRateRule[];
  service_charges: readonly ServiceChargeRule[];
  rounding: RoundingRule;
  tips: { enabled: boolean };
}

/**
 * An order-level discount, as a coupon (or anything else) describes it: an amount already worked out,
 * or a percentage of the subtotal. Either way it is capped at the subtotal.
 */
export type DiscountInput = { kind: 'amount'; amount_cents: number } | { kind: 'percent'; percent: string };

/** What the customer sent: at most one of the two. */
export interface TipInput {
  tip_cents?: number | undefined;
  tip_percent?: string | undefined;
}

export interface PricingInput {
  /** At least one line; ids unique. Checkout answers an empty cart before it prices anything. */
  lines: readonly PricingLine[];
  rules: PricingRules;
  fulfillment: Fulfillment;
  /** ISO 4217; every amount in and out is in its minor units. */
  currency: string;
  discount?: DiscountInput | undefined;
  /** Decided by the caller (the restaurant's delivery terms or a zone). Pickup never pays one: ignored there. */
  delivery_fee_cents?: number | undefined;
  tip?: TipInput | undefined;
}

export interface TaxPart {
  name: string;
  rate: string;
  inclusive: boolean;
  /** The priced amount the rate covers (for an inclusive rate, its tax is inside it). */
  taxable_cents: number;
  tax_cents: number;
}

export interface ChargePart {
  name: string;
  amount_cents: number;
}

export interface PricedLine {
  id: number | string;
  quantity: number;
  line_total_cents: number;
  /** This line's share of the order's discount. */
  discount_cents: number;
  /** This line's share of each service charge, in the order of `service_charges`. */
  service_charges: ChargePart[];
  /** This line's taxes, one per applicable rate, in the order of `taxes`. */
  taxes: TaxPart[];
  tax_cents: number;
  /** line_total − discount + its service charges + its exclusive taxes. */
  total_cents: number;
}

export interface PriceBreakdown {
  currency: string;
  /** Decimals of the currency's minor unit (ISO 4217): 2 for EUR, 0 for JPY, 3 for KWD. */
  minor_units: number;
  /** In the order they were given. */
  lines: PricedLine[];
  subtotal_cents: number;
  discount_cents: number;
  /** Every service charge that applies to the fulfillment, in the settings' order. */
  service_charges: ChargePart[];
  delivery_fee_cents: number;
  /** The taxes on the delivery fee alone (already counted in `taxes`). */
  delivery_fee_taxes: TaxPart[];
  /** Every tax rate that applies to the fulfillment, in the settings' order, lines and fee together. */
  taxes: TaxPart[];
  /** The sum of `taxes[].tax_cents`, inclusive ones included. */
  tax_cents: number;
  tip_cents: number;
  /** What is charged: subtotal − discount + service charges + delivery fee + exclusive taxes + tip. */
  total_cents: number;
}

/** The largest tip a customer may add, in minor units: keeps every total far inside exact JSON numbers. */
export const MAX_TIP_CENTS = 10_000_000_000;

interface RateOnBase {
  rate: TaxRateRule;
  scaled: ScaledPercent;
}

interface TaxesOnBase {
  taxable: bigint;
  /** Aligned with the rates given. */
  taxes: bigint[];
  exclusive: bigint;
}

function money(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer of minor units`);
  return BigInt(value);
}

function scaledPercent(text: string, what: string): ScaledPercent {
  const scaled = parsePercent(text);
  if (scaled === undefined) throw new RangeError(`${what} must be a decimal string between 0 and 100 with at most 4 decimals`);
  return scaled;
}

function checkLines(lines: readonly PricingLine[]): bigint[] {
  if (lines.length === 0) throw new RangeError('a price needs at least one line');
  const ids = new Set<number | string>();
  return lines.map((line, index) => {
    if (ids.has(line.id)) throw new RangeError(`line ids must be unique (lines.${index}.id)`);
    ids.add(line.id);
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) throw new RangeError(`lines.${index}.quantity must be a positive integer`);
    return money(line.line_total_cents, `lines.${index}.line_total_cents`);
  });
}

/** The rates that apply to this fulfillment, parsed. */
function ratesFor(rules: PricingRules, fulfillment: Fulfillment): RateOnBase[] {
  return rules.tax_rates
    .map((rate, index) => ({ rate, scaled: scaledPercent(rate.rate, `tax_rates.${index}.rate`) }))
    .filter(({ rate }) => rate.fulfillment.includes(fulfillment));
}

/** The taxes of one base, each rounded once, aligned with `rates`. */
function taxesOnBase(base: bigint, rates: readonly RateOnBase[], rounding: RoundingRule): TaxesOnBase {
  const inclusiveSum = rates.filter(({ rate }) => rate.inclusive).reduce((total, { scaled }) => total + scaled, 0n);
  const taxes = rates.map(({ rate, scaled }) =>
    rate.inclusive ? divideRounded(base * scaled, HUNDRED_PERCENT + inclusiveSum, rounding) : percentOf(base, scaled, rounding),
  );
  const exclusive = taxes.filter((_, index) => rates[index]?.rate.inclusive === false).reduce((a, b) => a + b, 0n);
  return { taxable: base, taxes, exclusive };
}

function discountOn(subtotal: bigint, discount: DiscountInput | undefined, rounding: RoundingRule): bigint {
  if (discount === undefined) return 0n;
  const wanted =
    discount.kind === 'amount'
      ? money(discount.amount_cents, 'discount.amount_cents')
      : percentOf(subtotal, scaledPercent(discount.percent, 'discount.percent'), rounding);
  return wanted < subtotal ? wanted : subtotal;
}

function chargeAmount(charge: ServiceChargeRule, index: number, base: bigint, rounding: RoundingRule): bigint {
  const hasPercent = charge.percent !== undefined;
  if (hasPercent === (charge.amount_cents !== undefined)) throw new RangeError(`service_charges.${index} needs exactly one of percent and amount_cents`);
  return charge.percent !== undefined
    ? percentOf(base, scaledPercent(charge.percent, `service_charges.${index}.percent`), rounding)
    : money(charge.amount_cents ?? 0, `service_charges.${index}.amount_cents`);
}

/** The tip the customer asked for, checked as their input: these are 400s, not bugs. */
function tipOn(base: bigint, tip: TipInput | undefined, rules: PricingRules): bigint {
  if (tip === undefined || (tip.tip_cents === undefined && tip.tip_percent === undefined)) return 0n;
  if (tip.tip_cents !== undefined && tip.tip_percent !== undefined) {
    throw invalidPricingInput('tip_percent', 'cannot be sent together with tip_cents: send one of them');
  }
  // A zero tip is no tip: a client that always sends one is not refused where tips are off.
  const refuseWhereTipsAreOff = (path: 'tip_cents' | 'tip_percent', wanted: bigint) => {
    if (wanted > 0n && !rules.tips.enabled) throw invalidPricingInput(path, 'is not accepted: this restaurant does not take tips');
  };
  if (tip.tip_cents !== undefined) {
    if (!Number.isSafeInteger(tip.tip_cents) || tip.tip_cents < 0) throw invalidPricingInput('tip_cents', 'must be a non-negative integer of minor units');
    if (tip.tip_cents > MAX_TIP_CENTS) throw invalidPricingInput('tip_cents', `must be at most ${MAX_TIP_CENTS}`);
    refuseWhereTipsAreOff('tip_cents', BigInt(tip.tip_cents));
    return BigInt(tip.tip_cents);
  }
  const scaled = parsePercent(tip.tip_percent ?? '');
  if (scaled === undefined) throw invalidPricingInput('tip_percent', 'must be a decimal string between 0 and 100 with at most 4 decimals, such as "15"');
  refuseWhereTipsAreOff('tip_percent', scaled);
  return percentOf(base, scaled, rules.rounding);
}

const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

export function priceOrder(input: PricingInput): PriceBreakdown {
  const { rules, fulfillment } = input;
  if (!fulfillments().includes(fulfillment)) throw new RangeError(`unknown fulfillment ${String(fulfillment)}`);
  if (rules.rounding !== 'half_even' && rules.rounding !== 'half_up') throw new RangeError(`unknown rounding rule ${String(rules.rounding)}`);
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new RangeError(`currency must be an ISO 4217 code, not ${input.currency}`);
  const rounding = rules.rounding;
  const gross = checkLines(input.lines);
  const subtotal = sum(gross);

  const discount = discountOn(subtotal, input.discount, rounding);
  const lineDiscounts = spreadByLargestRemainder(discount, gross);
  const net = gross.map((amount, index) => amount - (lineDiscounts[index] ?? 0n));
  const netSubtotal = subtotal - discount;

  const charges = rules.service_charges
    .map((charge, index) => ({ charge, index }))
    .filter(({ charge }) => charge.fulfillment.includes(fulfillment))
    .map(({ charge, index }) => {
      const amount = chargeAmount(charge, index, netSubtotal, rounding);
      return { charge, amount, shares: spreadByLargestRemainder(amount, net) };
    });

  const rates = ratesFor(rules, fulfillment);
  const lineTaxes = net.map((amount, line) =>
    taxesOnBase(amount + sum(charges.filter(({ charge }) => charge.taxable).map(({ shares }) => shares[line] ?? 0n)), rates, rounding),
  );

  const deliveryFee = fulfillment === 'delivery' ? money(input.delivery_fee_cents ?? 0, 'delivery_fee_cents') : 0n;
  const feeRates = fulfillment === 'delivery' ? rates.filter(({ rate }) => rate.applies_to_delivery_fee) : [];
  const feeTaxes = taxesOnBase(deliveryFee, feeRates, rounding);

  const tip = tipOn(netSubtotal, input.tip, rules);

  const taxPart = (rate: TaxRateRule, taxable: bigint, tax: bigint, what: string): TaxPart => ({
    name: rate.name,
    rate: rate.rate,
    inclusive: rate.inclusive,
    taxable_cents: toSafeNumber(taxable, `${what} taxable amount`),
    tax_cents: toSafeNumber(tax, `${what} tax`),
  });

  const lines = input.lines.map((line, index): PricedLine => {
    const taxes = lineTaxes[index] ?? { taxable: 0n, taxes: [], exclusive: 0n };
    const chargeShares = charges.map(({ shares }) => shares[index] ?? 0n);
    const lineDiscount = lineDiscounts[index] ?? 0n;
    return {
      id: line.id,
      quantity: line.quantity,
      line_total_cents: line.line_total_cents,
      discount_cents: toSafeNumber(lineDiscount, 'a line discount'),
      service_charges: charges.map(({ charge }, c) => ({ name: charge.name, amount_cents: toSafeNumber(chargeShares[c] ?? 0n, 'a line charge') })),
      taxes: rates.map(({ rate }, r) => taxPart(rate, taxes.taxable, taxes.taxes[r] ?? 0n, 'a line')),
      tax_cents: toSafeNumber(sum(taxes.taxes), 'a line tax'),
      total_cents: toSafeNumber((gross[index] ?? 0n) - lineDiscount + sum(chargeShares) + taxes.exclusive, 'a line total'),
    };
  });

  const orderTaxes = rates.map(({ rate }, r) => {
    const feeIndex = feeRates.findIndex((feeRate) => feeRate.rate === rate);
    const feeTaxable = feeIndex === -1 ? 0n : feeTaxes.taxable;
    const feeTax = feeIndex === -1 ? 0n : (feeTaxes.taxes[feeIndex] ?? 0n);
    return taxPart(rate, sum(lineTaxes.map(({ taxable }) => taxable)) + feeTaxable, sum(lineTaxes.map(({ taxes }) => taxes[r] ?? 0n)) + feeTax, 'an order');
  });
  const chargesTotal = sum(charges.map(({ amount }) => amount));
  const exclusiveTax = sum(lineTaxes.map(({ exclusive }) => exclusive)) + feeTaxes.exclusive;
  const allTaxes = sum(lineTaxes.map(({ taxes }) => sum(taxes))) + sum(feeTaxes.taxes);

  return {
    currency: input.currency,
    minor_units: minorUnits(input.currency),
    lines,
    subtotal_cents: toSafeNumber(subtotal, 'the subtotal'),
    discount_cents: toSafeNumber(discount, 'the discount'),
    service_charges: charges.map(({ charge, amount }) => ({ name: charge.name, amount_cents: toSafeNumber(amount, 'a service charge') })),
    delivery_fee_cents: toSafeNumber(deliveryFee, 'the delivery fee'),
    delivery_fee_taxes: feeRates.map(({ rate }, r) => taxPart(rate, feeTaxes.taxable, feeTaxes.taxes[r] ?? 0n, 'the delivery fee')),
    taxes: orderTaxes,
    tax_cents: toSafeNumber(allTaxes, 'the tax'),
    tip_cents: toSafeNumber(tip, 'the tip'),
    total_cents: toSafeNumber(netSubtotal + chargesTotal + deliveryFee + exclusiveTax + tip, 'the total'),
  };
}
