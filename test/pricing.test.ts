import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_TIP_CENTS,
  priceOrder,
  type DiscountInput,
  type Fulfillment,
  type PriceBreakdown,
  type PricingInput,
  type PricingRules,
  type ServiceChargeRule,
  type TaxRateRule,
  type TipInput,
} from '../src/modules/pricing/price.js';
import { divideRounded, isPercentString, minorUnits, parsePercent, spreadByLargestRemainder, toSafeNumber } from '../src/modules/pricing/arithmetic.js';
import { deliveryFeeCents, deliveryShortfallCents } from '../src/modules/pricing/delivery.js';
import { AppError } from '../src/http/errors.js';

const both: Fulfillment[] = ['pickup', 'delivery'];

const exclusive = (name: string, rate: string, more: Partial<TaxRateRule> = {}): TaxRateRule => ({
  name,
  rate,
  inclusive: false,
  fulfillment: both,
  applies_to_delivery_fee: false,
  ...more,
});
const inclusive = (name: string, rate: string, more: Partial<TaxRateRule> = {}): TaxRateRule => exclusive(name, rate, { inclusive: true, ...more });
const percentCharge = (name: string, percent: string, more: Partial<ServiceChargeRule> = {}): ServiceChargeRule => ({
  name,
  percent,
  fulfillment: both,
  taxable: false,
  ...more,
});
const fixedCharge = (name: string, amount: number, more: Partial<ServiceChargeRule> = {}): ServiceChargeRule => ({
  name,
  amount_cents: amount,
  fulfillment: both,
  taxable: false,
  ...more,
});

const rules = (more: Partial<PricingRules> = {}): PricingRules => ({
  tax_rates: [],
  service_charges: [],
  rounding: 'half_even',
  tips: { enabled: true },
  ...more,
});
const lines = (...totals: number[]) => totals.map((total, index) => ({ id: index + 1, quantity: 1, line_total_cents: total }));

const price = (totals: number[], more: Partial<PricingInput> = {}) =>
  priceOrder({ lines: lines(...totals), rules: rules(), fulfillment: 'pickup', currency: 'USD', ...more });

/** The order-level figures, compact enough to write a case on one line. */
const figures = (b: PriceBreakdown) => ({
  subtotal: b.subtotal_cents,
  discount: b.discount_cents,
  charges: b.service_charges.map((c) => [c.name, c.amount_cents]),
  fee: b.delivery_fee_cents,
  taxes: b.taxes.map((t) => [t.name, t.taxable_cents, t.tax_cents]),
  tax: b.tax_cents,
  tip: b.tip_cents,
  total: b.total_cents,
});

describe('the figures of the contract', () => {
  it('650 cents at exclusive "9" is 58.5: 58 with half_even, 59 with half_up', () => {
    const halfEven = price([650], { rules: rules({ tax_rates: [exclusive('Tax', '9')] }) });
    expect(halfEven.tax_cents).toBe(58);
    expect(halfEven.total_cents).toBe(708);
    const halfUp = price([650], { rules: rules({ tax_rates: [exclusive('Tax', '9')], rounding: 'half_up' }) });
    expect(halfUp.tax_cents).toBe(59);
    expect(halfUp.total_cents).toBe(709);
  });

  it('lines of 1500, 800, 695 and 695 at exclusive "8.875" give 133 + 71 + 62 + 62 = 328 (not 327 rounded once)', () => {
    const b = price([1500, 800, 695, 695], { rules: rules({ tax_rates: [exclusive('Sales tax', '8.875')] }) });
    expect(b.lines.map((line) => line.tax_cents)).toEqual([133, 71, 62, 62]);
    expect(b.taxes).toEqual([{ name: 'Sales tax', rate: '8.875', inclusive: false, taxable_cents: 3690, tax_cents: 328 }]);
    expect(b.tax_cents).toBe(328);
    expect(b.total_cents).toBe(3690 + 328);
  });

  it('1000 cents at inclusive "19" hold 160 cents of tax and the total stays 1000', () => {
    const b = price([1000], { currency: 'EUR', rules: rules({ tax_rates: [inclusive('VAT', '19')] }) });
    expect(b.taxes).toEqual([{ name: 'VAT', rate: '19', inclusive: true, taxable_cents: 1000, tax_cents: 160 }]);
    expect(b.tax_cents).toBe(160);
    expect(b.total_cents).toBe(1000);
  });

  it('JPY 1000 at exclusive "10" is 100 yen', () => {
    const b = price([1000], { currency: 'JPY', rules: rules({ tax_rates: [exclusive('Consumption tax', '10')] }) });
    expect(b.minor_units).toBe(0);
    expect(b.tax_cents).toBe(100);
    expect(b.total_cents).toBe(1100);
  });
});

interface Case {
  name: string;
  totals: number[];
  input?: Partial<PricingInput>;
  expected: ReturnType<typeof figures>;
  lines?: Array<Partial<PriceBreakdown['lines'][number]>>;
}

const none = { discount: 0, charges: [], fee: 0, tip: 0 };
const salesTax = exclusive('Sales tax', '8.875');

// Every figure below was worked out by hand; the comment shows the arithmetic.
const cases: Case[] = [
  {
    name: 'no taxes, no charges: the total is the sum of the lines (v1 behaviour)',
    totals: [450, 550],
    expected: { ...none, subtotal: 1000, taxes: [], tax: 0, total: 1000 },
  },
  {
    name: 'an exclusive 10 % rate is added', // 1000 × 10 % = 100
    totals: [1000],
    input: { rules: rules({ tax_rates: [exclusive('Tax', '10')] }) },
    expected: { ...none, subtotal: 1000, taxes: [['Tax', 1000, 100]], tax: 100, total: 1100 },
  },
  {
    name: 'an inclusive 10 % rate is inside the price', // 1000 × 10 / 110 = 90.91 → 91
    totals: [1000],
    input: { rules: rules({ tax_rates: [inclusive('VAT', '10')] }) },
    expected: { ...none, subtotal: 1000, taxes: [['VAT', 1000, 91]], tax: 91, total: 1000 },
  },
  {
    name: 'two exclusive rates each take their share of the same base', // 1000 × 6 % = 60, 1000 × 2.5 % = 25
    totals: [1000],
    input: { rules: rules({ tax_rates: [exclusive('State', '6'), exclusive('City', '2.5')] }) },
    expected: {
      ...none,
      subtotal: 1000,
      taxes: [
        ['State', 1000, 60],
        ['City', 1000, 25],
      ],
      tax: 85,
      total: 1085,
    },
  },
  {
    name: 'each line is rounded on its own', // 333 × 7.25 % = 24.14 → 24; 667 × 7.25 % = 48.36 → 48
    totals: [333, 667],
    input: { rules: rules({ tax_rates: [exclusive('Tax', '7.25')] }) },
    expected: { ...none, subtotal: 1000, taxes: [['Tax', 1000, 72]], tax: 72, total: 1072 },
    lines: [
      { tax_cents: 24, total_cents: 357 },
      { tax_cents: 48, total_cents: 715 },
    ],
  },
  {
    name: 'half_even sends a tie to the even neighbour, which may be up', // 350 × 5 % = 17.5 → 18
    totals: [350],
    input: { rules: rules({ tax_rates: [exclusive('Tax', '5')] }) },
    expected: { ...none, subtotal: 350, taxes: [['Tax', 350, 18]], tax: 18, total: 368 },
  },
  {
    name: 'an inclusive and an exclusive rate on one line: both of the price as priced', // 1190 × 19/119 = 190; 1190 × 1 % = 11.9 → 12
    totals: [1190],
    input: { rules: rules({ tax_rates: [inclusive('VAT', '19'), exclusive('Levy', '1')] }) },
    expected: {
      ...none,
      subtotal: 1190,
      taxes: [
        ['VAT', 1190, 190],
        ['Levy', 1190, 12],
      ],
      tax: 202,
      total: 1202,
    },
  },
  {
    name: 'two inclusive rates share the price: each r / (100 + 15)', // 1150 × 10/115 = 100; 1150 × 5/115 = 50
    totals: [1150],
    input: { rules: rules({ tax_rates: [inclusive('Federal', '10'), inclusive('Regional', '5')] }) },
    expected: {
      ...none,
      subtotal: 1150,
      taxes: [
        ['Federal', 1150, 100],
        ['Regional', 1150, 50],
      ],
      tax: 150,
      total: 1150,
    },
  },
  {
    name: 'a percent service charge that is not taxable', // charge 2000 × 10 % = 200; tax 2000 × 8.875 % = 177.5 → 178
    totals: [2000],
    input: { rules: rules({ tax_rates: [salesTax], service_charges: [percentCharge('Service', '10')] }) },
    expected: { ...none, subtotal: 2000, charges: [['Service', 200]], taxes: [['Sales tax', 2000, 178]], tax: 178, total: 2378 },
  },
  {
    name: 'a taxable percent service charge is taxed with the line', // (2000 + 200) × 8.875 % = 195.25 → 195
    totals: [2000],
    input: { rules: rules({ tax_rates: [salesTax], service_charges: [percentCharge('Service', '10', { taxable: true })] }) },
    expected: { ...none, subtotal: 2000, charges: [['Service', 200]], taxes: [['Sales tax', 2200, 195]], tax: 195, total: 2395 },
  },
  {
    name: 'a taxable charge spread over two lines, each taxed on its own', // 230 → 150 + 80; 1650 → 146.44 → 146; 880 → 78.1 → 78
    totals: [1500, 800],
    input: { rules: rules({ tax_rates: [salesTax], service_charges: [percentCharge('Service', '10', { taxable: true })] }) },
    expected: { ...none, subtotal: 2300, charges: [['Service', 230]], taxes: [['Sales tax', 2530, 224]], tax: 224, total: 2754 },
    lines: [
      { service_charges: [{ name: 'Service', amount_cents: 150 }], tax_cents: 146, total_cents: 1796 },
      { service_charges: [{ name: 'Service', amount_cents: 80 }], tax_cents: 78, total_cents: 958 },
    ],
  },
  {
    name: 'a fixed charge spread by largest remainder: the tie goes to the first line', // 100 / 3 = 33.33 each → 34, 33, 33
    totals: [100, 100, 100],
    input: { rules: rules({ service_charges: [fixedCharge('Packaging', 100)] }) },
    expected: { ...none, subtotal: 300, charges: [['Packaging', 100]], taxes: [], tax: 0, total: 400 },
    lines: [{ total_cents: 134 }, { total_cents: 133 }, { total_cents: 133 }],
  },
  {
    name: 'a taxable fixed charge: the larger remainder gets the extra cent, then each line is taxed', // 50 → 16.67 + 33.33 → 17 + 33; 117 → 11.7 → 12; 233 → 23.3 → 23
    totals: [100, 200],
    input: { rules: rules({ tax_rates: [exclusive('Tax', '10')], service_charges: [fixedCharge('Packaging', 50, { taxable: true })] }) },
    expected: { ...none, subtotal: 300, charges: [['Packaging', 50]], taxes: [['Tax', 350, 35]], tax: 35, total: 385 },
    lines: [
      { tax_cents: 12, total_cents: 129 },
      { tax_cents: 23, total_cents: 256 },
    ],
  },
  {
    // 500 × (1500, 800, 695, 695) / 3690 = 203.25, 108.40, 94.17, 94.17 → 203, 109, 94, 94;
    // taxes on 1297, 691, 601, 601: 115.11 → 115, 61.33 → 61, 53.34 → 53, 53
    name: 'an amount discount spread over the lines before tax',
    totals: [1500, 800, 695, 695],
    input: { discount: { kind: 'amount', amount_cents: 500 }, rules: rules({ tax_rates: [salesTax] }) },
    expected: { ...none, subtotal: 3690, discount: 500, taxes: [['Sales tax', 3190, 282]], tax: 282, total: 3472 },
    lines: [
      { discount_cents: 203, tax_cents: 115 },
      { discount_cents: 109, tax_cents: 61 },
      { discount_cents: 94, tax_cents: 53 },
      { discount_cents: 94, tax_cents: 53 },
    ],
  },
  {
    name: 'a 10 % discount: the half-cent tie between equal lines goes to the first of them', // 369 → 150, 80, 69.5, 69.5 → 150, 80, 70, 69
    totals: [1500, 800, 695, 695],
    input: { discount: { kind: 'percent', percent: '10' } },
    expected: { ...none, subtotal: 3690, discount: 369, taxes: [], tax: 0, total: 3321 },
    lines: [{ discount_cents: 150 }, { discount_cents: 80 }, { discount_cents: 70 }, { discount_cents: 69 }],
  },
  {
    name: 'a percent discount is rounded once with the restaurant’s rule', // 999 × 12.5 % = 124.875 → 125
    totals: [999],
    input: { discount: { kind: 'percent', percent: '12.5' } },
    expected: { ...none, subtotal: 999, discount: 125, taxes: [], tax: 0, total: 874 },
  },
  {
    name: 'a discount over the subtotal stops at it; a fixed charge then falls equally on the free lines',
    totals: [700, 500],
    input: {
      discount: { kind: 'amount', amount_cents: 5000 },
      rules: rules({ tax_rates: [exclusive('Tax', '10')], service_charges: [fixedCharge('Packaging', 100)] }),
    },
    expected: { ...none, subtotal: 1200, discount: 1200, charges: [['Packaging', 100]], taxes: [['Tax', 0, 0]], tax: 0, total: 100 },
    lines: [
      { discount_cents: 700, total_cents: 50 },
      { discount_cents: 500, total_cents: 50 },
    ],
  },
  {
    name: 'a tip in cents is added after tax and never taxed',
    totals: [1000],
    input: { tip: { tip_cents: 150 }, rules: rules({ tax_rates: [exclusive('Tax', '10')] }) },
    expected: { ...none, subtotal: 1000, taxes: [['Tax', 1000, 100]], tax: 100, tip: 150, total: 1250 },
  },
  {
    name: 'a tip percent is of the subtotal after the discount', // 1500 × 15 % = 225; tax 1500 × 8.875 % = 133.13 → 133
    totals: [2000],
    input: { tip: { tip_percent: '15' }, discount: { kind: 'amount', amount_cents: 500 }, rules: rules({ tax_rates: [salesTax] }) },
    expected: { ...none, subtotal: 2000, discount: 500, taxes: [['Sales tax', 1500, 133]], tax: 133, tip: 225, total: 1858 },
  },
  {
    name: 'a tip percent rounds with half_even', // 1025 × 18 % = 184.5 → 184
    totals: [1025],
    input: { tip: { tip_percent: '18' } },
    expected: { ...none, subtotal: 1025, taxes: [], tax: 0, tip: 184, total: 1209 },
  },
  {
    name: 'a tip percent rounds with half_up', // 1025 × 18 % = 184.5 → 185
    totals: [1025],
    input: { tip: { tip_percent: '18' }, rules: rules({ rounding: 'half_up' }) },
    expected: { ...none, subtotal: 1025, taxes: [], tax: 0, tip: 185, total: 1210 },
  },
  {
    name: 'JPY: lines of 980 and 1480 yen at 10 %', // 98 + 148
    totals: [980, 1480],
    input: { currency: 'JPY', rules: rules({ tax_rates: [exclusive('Consumption tax', '10')] }) },
    expected: { ...none, subtotal: 2460, taxes: [['Consumption tax', 2460, 246]], tax: 246, total: 2706 },
  },
  {
    name: 'JPY inclusive: 1100 yen hold 100 yen of tax', // 1100 × 10 / 110 = 100
    totals: [1100],
    input: { currency: 'JPY', rules: rules({ tax_rates: [inclusive('Consumption tax', '10')] }) },
    expected: { ...none, subtotal: 1100, taxes: [['Consumption tax', 1100, 100]], tax: 100, total: 1100 },
  },
  {
    name: 'KWD (3 decimals): 1250 fils at 5 %', // 62.5 → 62
    totals: [1250],
    input: { currency: 'KWD', rules: rules({ tax_rates: [exclusive('Tax', '5')] }) },
    expected: { ...none, subtotal: 1250, taxes: [['Tax', 1250, 62]], tax: 62, total: 1312 },
  },
  {
    name: 'a delivery fee the rate does not apply to is not taxed', // 2000 × 8.875 % = 177.5 → 178
    totals: [2000],
    input: { fulfillment: 'delivery', delivery_fee_cents: 399, rules: rules({ tax_rates: [salesTax] }) },
    expected: { ...none, subtotal: 2000, fee: 399, taxes: [['Sales tax', 2000, 178]], tax: 178, total: 2577 },
  },
  {
    name: 'a delivery fee taxed by a rate that applies to it', // fee 399 × 8.875 % = 35.41 → 35
    totals: [2000],
    input: {
      fulfillment: 'delivery',
      delivery_fee_cents: 399,
      rules: rules({ tax_rates: [exclusive('Sales tax', '8.875', { applies_to_delivery_fee: true })] }),
    },
    expected: { ...none, subtotal: 2000, fee: 399, taxes: [['Sales tax', 2399, 213]], tax: 213, total: 2612 },
  },
  {
    name: 'an inclusive rate on the delivery fee is inside the fee', // 1190 × 19/119 = 190; 119 × 19/119 = 19
    totals: [1190],
    input: {
      fulfillment: 'delivery',
      delivery_fee_cents: 119,
      currency: 'EUR',
      rules: rules({ tax_rates: [inclusive('VAT', '19', { applies_to_delivery_fee: true })] }),
    },
    expected: { ...none, subtotal: 1190, fee: 119, taxes: [['VAT', 1309, 209]], tax: 209, total: 1309 },
  },
  {
    name: 'pickup: no delivery fee, no delivery-only charge, the pickup-only rate applies',
    totals: [1000],
    input: {
      delivery_fee_cents: 399,
      rules: rules({
        tax_rates: [exclusive('Takeaway tax', '5', { fulfillment: ['pickup'] })],
        service_charges: [fixedCharge('Delivery service', 200, { fulfillment: ['delivery'] })],
      }),
    },
    expected: { ...none, subtotal: 1000, taxes: [['Takeaway tax', 1000, 50]], tax: 50, total: 1050 },
  },
  {
    name: 'delivery: the delivery-only charge applies, the pickup-only rate does not',
    totals: [1000],
    input: {
      fulfillment: 'delivery',
      delivery_fee_cents: 399,
      rules: rules({
        tax_rates: [exclusive('Takeaway tax', '5', { fulfillment: ['pickup'] })],
        service_charges: [fixedCharge('Delivery service', 200, { fulfillment: ['delivery'] })],
      }),
    },
    expected: { ...none, subtotal: 1000, charges: [['Delivery service', 200]], fee: 399, taxes: [], tax: 0, total: 1599 },
  },
  {
    // 3000 − 10 % = 2700; charge 2700 × 12.5 % = 337.5 → 338 (half_even: 337 is odd); tax (2700 + 338) × 8.875 % = 269.62 → 270;
    // fee 499 × 8.875 % = 44.29 → 44; tip 2700 × 20 % = 540; total 2700 + 338 + 499 + 314 + 540
    name: 'everything at once on a delivery',
    totals: [3000],
    input: {
      fulfillment: 'delivery',
      delivery_fee_cents: 499,
      discount: { kind: 'percent', percent: '10' },
      tip: { tip_percent: '20' },
      rules: rules({
        tax_rates: [exclusive('Sales tax', '8.875', { applies_to_delivery_fee: true })],
        service_charges: [percentCharge('Service', '12.5', { taxable: true })],
      }),
    },
    expected: { subtotal: 3000, discount: 300, charges: [['Service', 338]], fee: 499, taxes: [['Sales tax', 3537, 314]], tax: 314, tip: 540, total: 4391 },
  },
];

describe('a table of hand-checked prices', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const b = price(c.totals, c.input);
    expect(figures(b)).toEqual(c.expected);
    c.lines?.forEach((expectedLine, index) => {
      expect(b.lines[index]).toMatchObject(expectedLine);
    });
  });
});

describe('the breakdown of each line', () => {
  it('hands back each line with its id, its share of every part and its own total', () => {
    const b = priceOrder({
      lines: [
        { id: 'a', quantity: 2, line_total_cents: 1000 },
        { id: 'b', quantity: 1, line_total_cents: 500 },
      ],
      rules: rules({ tax_rates: [exclusive('Tax', '10')], service_charges: [percentCharge('Service', '10', { taxable: true })] }),
      fulfillment: 'pickup',
      currency: 'EUR',
      discount: { kind: 'amount', amount_cents: 300 },
    });
    // 300 → 200 + 100; nets 800, 400; charge 120 → 80 + 40; taxes 88, 44
    expect(b.lines).toEqual([
      {
        id: 'a',
        quantity: 2,
        line_total_cents: 1000,
        discount_cents: 200,
        service_charges: [{ name: 'Service', amount_cents: 80 }],
        taxes: [{ name: 'Tax', rate: '10', inclusive: false, taxable_cents: 880, tax_cents: 88 }],
        tax_cents: 88,
        total_cents: 968,
      },
      {
        id: 'b',
        quantity: 1,
        line_total_cents: 500,
        discount_cents: 100,
        service_charges: [{ name: 'Service', amount_cents: 40 }],
        taxes: [{ name: 'Tax', rate: '10', inclusive: false, taxable_cents: 440, tax_cents: 44 }],
        tax_cents: 44,
        total_cents: 484,
      },
    ]);
    expect(b.total_cents).toBe(968 + 484);
  });

  it('lists no taxes on a delivery fee for pickup, which has none', () => {
    const b = price([1000], { delivery_fee_cents: 500, rules: rules({ tax_rates: [exclusive('Tax', '10', { applies_to_delivery_fee: true })] }) });
    expect([b.delivery_fee_cents, b.delivery_fee_taxes, b.total_cents]).toEqual([0, [], 1100]);
  });

  it('lists the taxes on the delivery fee apart (they are counted in taxes too)', () => {
    const b = price([1000], {
      fulfillment: 'delivery',
      delivery_fee_cents: 500,
      rules: rules({ tax_rates: [exclusive('Tax', '10', { applies_to_delivery_fee: true }), exclusive('Other', '1')] }),
    });
    expect(b.delivery_fee_taxes).toEqual([{ name: 'Tax', rate: '10', inclusive: false, taxable_cents: 500, tax_cents: 50 }]);
    expect(b.taxes).toEqual([
      { name: 'Tax', rate: '10', inclusive: false, taxable_cents: 1500, tax_cents: 150 },
      { name: 'Other', rate: '1', inclusive: false, taxable_cents: 1000, tax_cents: 10 },
    ]);
    expect(b.total_cents).toBe(1000 + 500 + 160);
  });
});

describe('input the customer sent that cannot be priced', () => {
  const refusal = (tip: TipInput, tipsEnabled = true) => {
    try {
      price([1000], { tip, rules: rules({ tips: { enabled: tipsEnabled } }) });
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      const appError = error as AppError;
      expect([appError.code, appError.status]).toEqual(['validation_failed', 400]);
      return appError.errors;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a tip while tips are off, naming the field', () => {
    expect(refusal({ tip_cents: 100 }, false)).toEqual([{ path: 'tip_cents', message: expect.stringMatching(/does not take tips/) }]);
    expect(refusal({ tip_percent: '15' }, false)).toEqual([{ path: 'tip_percent', message: expect.stringMatching(/does not take tips/) }]);
  });

  it('refuses a tip percent while tips are off even when it comes to nothing', () => {
    const free = () => price([1000], { discount: { kind: 'percent', percent: '100' }, tip: { tip_percent: '15' }, rules: rules({ tips: { enabled: false } }) });
    expect(free).toThrow(AppError);
  });

  it('takes a zero tip while tips are off: it is no tip', () => {
    expect(price([1000], { tip: { tip_cents: 0 }, rules: rules({ tips: { enabled: false } }) }).total_cents).toBe(1000);
    expect(price([1000], { tip: { tip_percent: '0' }, rules: rules({ tips: { enabled: false } }) }).total_cents).toBe(1000);
  });

  it('refuses a negative, fractional or huge tip', () => {
    expect(refusal({ tip_cents: -1 })).toEqual([{ path: 'tip_cents', message: 'must be a non-negative integer of minor units' }]);
    expect(refusal({ tip_cents: 1.5 })).toEqual([{ path: 'tip_cents', message: 'must be a non-negative integer of minor units' }]);
    expect(refusal({ tip_cents: MAX_TIP_CENTS + 1 })).toEqual([{ path: 'tip_cents', message: `must be at most ${MAX_TIP_CENTS}` }]);
    expect(price([1000], { tip: { tip_cents: MAX_TIP_CENTS } }).total_cents).toBe(1000 + MAX_TIP_CENTS);
  });

  it.each(['-5', '101', '15.12345', '1e2', ' 15', '15.', '.5', '015', 'fifteen', ''])('refuses the tip percent %j', (tipPercent) => {
    expect(refusal({ tip_percent: tipPercent })).toEqual([
      { path: 'tip_percent', message: expect.stringMatching(/^must be a decimal string between 0 and 100 with at most 4 decimals, such as "15"$/) },
    ]);
  });

  it('refuses both tip_cents and tip_percent', () => {
    expect(refusal({ tip_cents: 100, tip_percent: '10' })).toEqual([{ path: 'tip_percent', message: expect.stringMatching(/not.*both|together/) }]);
  });
});

describe('input a caller must never send (a bug, not a 400)', () => {
  // The message names the broken field, so the bug report that reaches a developer says where to look.
  it.each<[string, Partial<PricingInput>, RegExp]>([
    ['no lines', { lines: [] }, /^a price needs at least one line$/],
    [
      'a negative line total',
      { lines: [{ id: 1, quantity: 1, line_total_cents: -1 }] },
      /^lines\.0\.line_total_cents must be a non-negative integer of minor units$/,
    ],
    ['a fractional line total', { lines: [{ id: 1, quantity: 1, line_total_cents: 10.5 }] }, /^lines\.0\.line_total_cents must be/],
    ['a zero quantity', { lines: [{ id: 1, quantity: 0, line_total_cents: 100 }] }, /^lines\.0\.quantity must be a positive integer$/],
    [
      'two lines with one id',
      {
        lines: [
          { id: 1, quantity: 1, line_total_cents: 100 },
          { id: 1, quantity: 1, line_total_cents: 100 },
        ],
      },
      /^line ids must be unique \(lines\.1\.id\)$/,
    ],
    [
      'a malformed rate',
      { rules: rules({ tax_rates: [exclusive('Tax', '8,875')] }) },
      /^tax_rates\.0\.rate must be a decimal string between 0 and 100 with at most 4 decimals$/,
    ],
    ['a rate over 100', { rules: rules({ tax_rates: [exclusive('Tax', '100.0001')] }) }, /^tax_rates\.0\.rate must be/],
    [
      'a charge with both percent and amount',
      { rules: rules({ service_charges: [{ ...fixedCharge('X', 100), percent: '10' }] }) },
      /^service_charges\.0 needs exactly one of percent and amount_cents$/,
    ],
    [
      'a charge with neither',
      { rules: rules({ service_charges: [{ name: 'X', fulfillment: both, taxable: false }] }) },
      /^service_charges\.0 needs exactly one/,
    ],
    ['a malformed charge percent', { rules: rules({ service_charges: [percentCharge('X', '10%')] }) }, /^service_charges\.0\.percent must be a decimal string/],
    [
      'a negative fixed charge',
      { rules: rules({ service_charges: [fixedCharge('X', -5)] }) },
      /^service_charges\.0\.amount_cents must be a non-negative integer/,
    ],
    ['a negative discount', { discount: { kind: 'amount', amount_cents: -1 } }, /^discount\.amount_cents must be a non-negative integer/],
    ['a discount percent over 100', { discount: { kind: 'percent', percent: '150' } }, /^discount\.percent must be a decimal string/],
    ['a negative delivery fee', { fulfillment: 'delivery', delivery_fee_cents: -1 }, /^delivery_fee_cents must be a non-negative integer/],
    ['a currency that is not an ISO code', { currency: 'usd' }, /^currency must be an ISO 4217 code, not usd$/],
    ['a currency with a letter too many at the end', { currency: 'USDX' }, /^currency must be an ISO 4217 code, not USDX$/],
    ['a currency with a letter too many in front', { currency: 'XUSD' }, /^currency must be an ISO 4217 code, not XUSD$/],
    ['an unknown fulfillment', { fulfillment: 'drone' as Fulfillment }, /^unknown fulfillment drone$/],
    ['an unknown rounding rule', { rules: rules({ rounding: 'half_down' as PricingRules['rounding'] }) }, /^unknown rounding rule half_down$/],
  ])('throws a RangeError for %s, naming it', (_name, input, message) => {
    expect(() => price([1000], input)).toThrow(RangeError);
    expect(() => price([1000], input)).toThrow(message);
  });
});

describe('a price too large for a JSON number is refused, never rounded, and the message names the figure', () => {
  const max = Number.MAX_SAFE_INTEGER;
  const beyond = (what: string) => new RegExp(`^${what} is beyond what a JSON number holds exactly$`);
  const double = [exclusive('A', '100'), exclusive('B', '100')];

  it.each<[string, number[], Partial<PricingInput>, string]>([
    [
      'a line taxed with its share of a taxable charge',
      [max],
      { rules: rules({ tax_rates: [exclusive('Tax', '0')], service_charges: [fixedCharge('Service', 1, { taxable: true })] }) },
      'a line taxable amount',
    ],
    ['the taxes of one line', [2 ** 52], { rules: rules({ tax_rates: double }) }, 'a line tax'],
    ['a line with its charge', [max], { rules: rules({ service_charges: [fixedCharge('Service', 1)] }) }, 'a line total'],
    [
      'the base of a rate that also taxes the delivery fee',
      [max],
      { fulfillment: 'delivery', delivery_fee_cents: 1, rules: rules({ tax_rates: [exclusive('Tax', '0', { applies_to_delivery_fee: true })] }) },
      'an order taxable amount',
    ],
    ['the sum of the lines', [max, 1], {}, 'the subtotal'],
    [
      'the taxes of every line together',
      [0.4 * 2 ** 53, 0.4 * 2 ** 53],
      { rules: rules({ tax_rates: [exclusive('Exclusive', '100'), inclusive('Inclusive', '100')] }) },
      'the tax',
    ],
    ['the lines with the delivery fee', [max], { fulfillment: 'delivery', delivery_fee_cents: 1 }, 'the total'],
  ])('%s', (_name, totals, input, what) => {
    expect(() => price(totals, input)).toThrow(beyond(what));
  });
});

describe('the arithmetic', () => {
  it('parses decimal strings exactly into ten-thousandths of a percent', () => {
    expect(parsePercent('8.875')).toBe(88_750n);
    expect(parsePercent('0')).toBe(0n);
    expect(parsePercent('0.0001')).toBe(1n);
    expect(parsePercent('100')).toBe(1_000_000n);
    expect(parsePercent('100.0000')).toBe(1_000_000n);
    expect(parsePercent('99.9999')).toBe(999_999n);
    for (const bad of ['100.0001', '-1', '1.23456', '01', '1e1', 'Infinity', 'NaN', '0x10', '1_0', '', ' 1', '1 ']) {
      expect(parsePercent(bad), bad).toBeUndefined();
    }
  });

  it('rounds ties by the rule and everything else to the nearest', () => {
    expect([5n, 15n, 25n, 35n].map((n) => divideRounded(n, 10n, 'half_even'))).toEqual([0n, 2n, 2n, 4n]);
    expect([5n, 15n, 25n, 35n].map((n) => divideRounded(n, 10n, 'half_up'))).toEqual([1n, 2n, 3n, 4n]);
    expect([14n, 16n].map((n) => divideRounded(n, 10n, 'half_even'))).toEqual([1n, 2n]);
    expect(divideRounded(0n, 7n, 'half_up')).toBe(0n);
    expect(() => divideRounded(-1n, 2n, 'half_up')).toThrow(RangeError);
    expect(() => divideRounded(1n, 0n, 'half_up')).toThrow(RangeError);
  });

  it('spreads by largest remainder so the parts add up, never above a weight', () => {
    expect(spreadByLargestRemainder(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(spreadByLargestRemainder(10n, [0n, 0n])).toEqual([5n, 5n]);
    expect(spreadByLargestRemainder(1n, [0n, 5n, 0n])).toEqual([0n, 1n, 0n]);
    expect(spreadByLargestRemainder(0n, [])).toEqual([]);
    expect(() => spreadByLargestRemainder(1n, [])).toThrow(RangeError);
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 20 }),
        fc.bigInt({ min: 0n, max: 10n ** 10n }),
        (weights, wanted) => {
          const sum = weights.reduce((a, b) => a + b, 0n);
          const total = sum === 0n ? wanted : wanted % (sum + 1n);
          const parts = spreadByLargestRemainder(total, weights);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
          if (sum > 0n) {
            parts.forEach((part, index) => {
              expect(part).toBeLessThanOrEqual(weights[index] ?? 0n);
            });
          }
        },
      ),
    );
  });

  it('accepts as a percentage exactly the strings it can parse, so settings and prices never disagree', () => {
    expect(['8.875', '0', '100', '0.0001'].map(isPercentString)).toEqual([true, true, true, true]);
    expect(['100.0001', '-1', '1.23456', '', 'abc'].map(isPercentString)).toEqual([false, false, false, false, false]);
  });

  it('refuses a negative or zero denominator rather than rounding towards a wrong sign, and says why', () => {
    expect(() => divideRounded(5n, -2n, 'half_up')).toThrow(/non-negative numerator and a positive denominator/);
    expect(() => divideRounded(5n, 0n, 'half_even')).toThrow(/non-negative numerator and a positive denominator/);
    expect(() => divideRounded(-5n, 2n, 'half_even')).toThrow(/non-negative numerator and a positive denominator/);
  });

  it('refuses to spread a negative amount, over a negative weight, or over nothing, and says which', () => {
    expect(() => spreadByLargestRemainder(-1n, [1n])).toThrow(/only a non-negative amount can be spread/);
    expect(() => spreadByLargestRemainder(10n, [5n, -1n, 5n])).toThrow(/weights must be non-negative/);
    expect(() => spreadByLargestRemainder(10n, [-1n])).toThrow(/weights must be non-negative/);
    expect(() => spreadByLargestRemainder(1n, [])).toThrow(/an amount cannot be spread over nothing/);
  });

  it('hands amounts out as JSON numbers only while a number holds them exactly, down to the last unit on both sides', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(toSafeNumber(max, 'the total')).toBe(Number.MAX_SAFE_INTEGER);
    expect(toSafeNumber(-max, 'the total')).toBe(Number.MIN_SAFE_INTEGER);
    expect(toSafeNumber(0n, 'the total')).toBe(0);
    expect(() => toSafeNumber(max + 1n, 'the total')).toThrow(/^the total is beyond what a JSON number holds exactly$/);
    expect(() => toSafeNumber(-max - 1n, 'a line tax')).toThrow(/^a line tax is beyond what a JSON number holds exactly$/);
  });

  it('refuses to price lines whose sum no JSON number holds exactly, instead of charging a rounded subtotal', () => {
    expect(() => price([Number.MAX_SAFE_INTEGER, 1])).toThrow(/^the subtotal is beyond what a JSON number holds exactly$/);
  });

  it('knows the ISO 4217 minor units', () => {
    expect(['USD', 'EUR', 'GBP', 'JPY', 'KRW', 'ISK', 'KWD', 'BHD', 'IQD', 'TND', 'CLF', 'HUF', 'COP'].map(minorUnits)).toEqual([
      2, 2, 2, 0, 0, 0, 3, 3, 3, 3, 4, 2, 2,
    ]);
  });

  it('reads the delivery terms with inclusive boundaries', () => {
    const terms = { fee_cents: 399, min_subtotal_cents: 1500, free_over_cents: 4000 };
    expect([3999, 4000, 4001].map((subtotal) => deliveryFeeCents(terms, subtotal))).toEqual([399, 0, 0]);
    expect(deliveryFeeCents({ ...terms, free_over_cents: null }, 1_000_000)).toBe(399);
    expect([1499, 1500, 2000].map((subtotal) => deliveryShortfallCents(terms, subtotal))).toEqual([1, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const percentArb = (maxWhole: number) =>
  fc.integer({ min: 0, max: maxWhole * 10_000 }).map((scaled) => {
    const whole = Math.floor(scaled / 10_000);
    const fraction = String(scaled % 10_000)
      .padStart(4, '0')
      .replace(/0+$/, '');
    return fraction === '' ? String(whole) : `${whole}.${fraction}`;
  });
const fulfillmentArb = fc.constantFrom<Fulfillment[]>(['pickup'], ['delivery'], ['pickup', 'delivery']);
const taxRateArb: fc.Arbitrary<TaxRateRule> = fc.record({
  name: fc.string({ minLength: 1, maxLength: 8 }),
  rate: percentArb(30),
  inclusive: fc.boolean(),
  fulfillment: fulfillmentArb,
  applies_to_delivery_fee: fc.boolean(),
});
const serviceChargeArb: fc.Arbitrary<ServiceChargeRule> = fc.oneof(
  fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), percent: percentArb(25), fulfillment: fulfillmentArb, taxable: fc.boolean() }),
  fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    amount_cents: fc.integer({ min: 0, max: 5_000 }),
    fulfillment: fulfillmentArb,
    taxable: fc.boolean(),
  }),
);
const rulesArb: fc.Arbitrary<PricingRules> = fc.record({
  tax_rates: fc.array(taxRateArb, { maxLength: 3 }),
  service_charges: fc.array(serviceChargeArb, { maxLength: 3 }),
  rounding: fc.constantFrom('half_even' as const, 'half_up' as const),
  tips: fc.constant({ enabled: true }),
});
const discountArb: fc.Arbitrary<DiscountInput | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ kind: fc.constant('amount' as const), amount_cents: fc.integer({ min: 0, max: 2_000_000 }) }),
  fc.record({ kind: fc.constant('percent' as const), percent: percentArb(100) }),
);
const tipArb: fc.Arbitrary<TipInput | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ tip_cents: fc.integer({ min: 0, max: 100_000 }) }),
  fc.record({ tip_percent: percentArb(30) }),
);
const inputArb: fc.Arbitrary<PricingInput> = fc.record({
  lines: fc
    .array(fc.record({ quantity: fc.integer({ min: 1, max: 50 }), line_total_cents: fc.integer({ min: 0, max: 1_000_000 }) }), { minLength: 1, maxLength: 8 })
    .map((list) => list.map((line, index) => ({ id: index + 1, ...line }))),
  rules: rulesArb,
  fulfillment: fc.constantFrom<Fulfillment>('pickup', 'delivery'),
  currency: fc.constantFrom('USD', 'EUR', 'JPY', 'KWD'),
  discount: discountArb,
  delivery_fee_cents: fc.integer({ min: 0, max: 10_000 }),
  tip: tipArb,
});

const total = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('properties of every price', () => {
  it('the parts always add up to the total, on the order and on every line', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const b = priceOrder(input);
        const exclusiveTax = total(b.taxes.filter((t) => !t.inclusive).map((t) => t.tax_cents));
        expect(b.total_cents).toBe(
          b.subtotal_cents - b.discount_cents + total(b.service_charges.map((c) => c.amount_cents)) + b.delivery_fee_cents + exclusiveTax + b.tip_cents,
        );
        expect(
          total(b.lines.map((line) => line.total_cents)) +
            b.delivery_fee_cents +
            total(b.delivery_fee_taxes.filter((t) => !t.inclusive).map((t) => t.tax_cents)) +
            b.tip_cents,
        ).toBe(b.total_cents);
        expect(b.subtotal_cents).toBe(total(b.lines.map((line) => line.line_total_cents)));
        expect(b.discount_cents).toBe(total(b.lines.map((line) => line.discount_cents)));
        expect(b.tax_cents).toBe(total(b.taxes.map((t) => t.tax_cents)));
        b.service_charges.forEach((charge, c) => {
          expect(total(b.lines.map((line) => line.service_charges[c]?.amount_cents ?? 0))).toBe(charge.amount_cents);
        });
        b.taxes.forEach((tax, r) => {
          const onFee = b.delivery_fee_taxes.find((t) => t.name === tax.name && t.rate === tax.rate)?.tax_cents ?? 0;
          expect(total(b.lines.map((line) => line.taxes[r]?.tax_cents ?? 0)) + onFee).toBe(tax.tax_cents);
        });
        for (const line of b.lines) {
          const lineExclusive = total(line.taxes.filter((t) => !t.inclusive).map((t) => t.tax_cents));
          expect(line.total_cents).toBe(line.line_total_cents - line.discount_cents + total(line.service_charges.map((c) => c.amount_cents)) + lineExclusive);
          expect(line.tax_cents).toBe(total(line.taxes.map((t) => t.tax_cents)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a discount never makes a line negative and never exceeds the subtotal', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const b = priceOrder(input);
        expect(b.discount_cents).toBeLessThanOrEqual(b.subtotal_cents);
        for (const line of b.lines) {
          expect(line.discount_cents).toBeGreaterThanOrEqual(0);
          expect(line.discount_cents).toBeLessThanOrEqual(line.line_total_cents);
          expect(line.total_cents).toBeGreaterThanOrEqual(0);
        }
        expect(b.total_cents).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('an inclusive tax never changes the total', () => {
    fc.assert(
      fc.property(inputArb, taxRateArb, fc.nat(), (input, extra, position) => {
        const withInclusive = [...input.rules.tax_rates];
        withInclusive.splice(position % (withInclusive.length + 1), 0, { ...extra, inclusive: true });
        const before = priceOrder(input);
        const after = priceOrder({ ...input, rules: { ...input.rules, tax_rates: withInclusive } });
        expect(after.total_cents).toBe(before.total_cents);
        expect(after.lines.map((line) => line.total_cents)).toEqual(before.lines.map((line) => line.total_cents));
      }),
      { numRuns: 300 },
    );
  });

  it('the same input always gives the same output, and the input is left untouched', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const copy = structuredClone(input);
        const first = priceOrder(deepFreeze(input));
        expect(priceOrder(copy)).toEqual(first);
        expect(input).toEqual(copy);
      }),
      { numRuns: 200 },
    );
  });

  it('no float ever appears: every number out is a safe integer, and rates stay strings', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const b = priceOrder(input);
        for (const value of numbersIn(b)) expect(Number.isSafeInteger(value), String(value)).toBe(true);
        for (const tax of b.taxes) expect(typeof tax.rate).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(numbersIn);
  return [];
}
