import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant } from './support/factories.js';
import { problem } from './support/catalog.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { pricingSettingsSchema, type PricingSettings } from '../src/modules/pricing/schemas.js';
import { demoBistroPricing } from '../src/modules/pricing/demo.js';
import { getPricingSettings } from '../src/modules/pricing/service.js';
import { priceOrder } from '../src/modules/pricing/price.js';
import { deliveryFeeCents } from '../src/modules/pricing/delivery.js';

const defaults: PricingSettings = {
  tax_rates: [],
  service_charges: [],
  rounding: 'half_even',
  tips: { enabled: false, suggested_percentages: [] },
  delivery: { fee_cents: 0, min_subtotal_cents: 0, free_over_cents: null },
};

const full = () => ({
  tax_rates: [
    { name: 'Sales tax', rate: '8.875', inclusive: false, fulfillment: ['pickup', 'delivery'], applies_to_delivery_fee: true },
    { name: 'Delivery levy', rate: '0.5', inclusive: false, fulfillment: ['delivery'], applies_to_delivery_fee: false },
  ],
  service_charges: [
    { name: 'Service', percent: '10', fulfillment: ['pickup', 'delivery'], taxable: true },
    { name: 'Bag', amount_cents: 25, fulfillment: ['delivery'], taxable: false },
  ],
  rounding: 'half_up',
  tips: { enabled: true, suggested_percentages: ['10', '15', '20'] },
  delivery: { fee_cents: 399, min_subtotal_cents: 1500, free_over_cents: 4000 },
});

describe('pricing settings', () => {
  let t: TestApp;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;
  let restaurantId: number;
  const domain = 'pricing.example.com';
  const otherDomain = 'pricing-other.example.com';

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain });
    const other = await createRestaurant(t.db.knex, { domain: otherDomain });
    restaurantId = restaurant.id;
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    otherManager = await signInStaff(t.cognito, t.db.knex, other.id, 'manager');
    customer = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (on = domain, user?: SignedInUser) => {
    const req = request(t.app).get('/v1/restaurant/pricing').set('X-Restaurant-Domain', on);
    return user === undefined ? req : req.set('Authorization', user.auth);
  };
  /** As the manager unless told otherwise; `null`: anonymously. */
  const put = (body: unknown, user: SignedInUser | null = manager, on = domain) => {
    const req = request(t.app).put('/v1/restaurant/pricing').set('X-Restaurant-Domain', on);
    return (user === null ? req : req.set('Authorization', user.auth)).send(body as object);
  };
  const settingsOf = (res: request.Response) => {
    expect(res.status, res.text).toBe(200);
    return pricingSettingsSchema.parse(res.body);
  };

  it('starts with the defaults, which anyone may read', async () => {
    expect(settingsOf(await get())).toEqual(defaults);
    expect(settingsOf(await get(domain, customer))).toEqual(defaults);
    expect(await getPricingSettings(t.db.knex, restaurantId)).toEqual(defaults);
  });

  it('answers an unknown domain with 404 restaurant_not_found', async () => {
    problem(await get('nowhere.example.com'), 404, 'restaurant_not_found');
  });

  it('lets a manager replace them: 200 with the settings, every entry with an id, and GET gives the same back', async () => {
    const saved = settingsOf(await put(full()));
    expect(saved).toEqual({
      ...full(),
      tax_rates: full().tax_rates.map((rate) => ({ id: expect.any(Number), ...rate })),
      service_charges: full().service_charges.map((charge) => ({ id: expect.any(Number), ...charge })),
    });
    const ids = [...saved.tax_rates, ...saved.service_charges].map(({ id }) => id);
    expect(new Set(ids).size).toBe(4);
    expect(settingsOf(await get())).toEqual(saved);
    expect(await getPricingSettings(t.db.knex, restaurantId)).toEqual(saved);
  });

  it('keeps the id of an entry sent back with it, gives a new entry a new id, and never reuses a removed one', async () => {
    const before = settingsOf(await put(full()));
    const [salesTax, levy] = before.tax_rates;
    const body = {
      ...before,
      tax_rates: [
        { ...salesTax!, rate: '9' },
        { name: 'New tax', rate: '1' },
      ],
      service_charges: before.service_charges.slice(1),
    };
    const after = settingsOf(await put(body));
    expect(after.tax_rates[0]).toEqual({ ...salesTax!, rate: '9' });
    const newId = after.tax_rates[1]!.id;
    const everUsed = [...before.tax_rates, ...before.service_charges].map(({ id }) => id);
    expect(everUsed).not.toContain(newId);
    expect(newId).toBeGreaterThan(Math.max(...everUsed));
    expect(after.tax_rates.map(({ id }) => id)).not.toContain(levy!.id);
    expect(after.service_charges).toEqual(before.service_charges.slice(1));
  });

  it('fills what a PUT leaves out with the defaults (the body replaces the settings)', async () => {
    await put(full());
    const saved = settingsOf(await put({ tax_rates: [{ name: 'VAT', rate: '20', inclusive: true }] }));
    expect(saved).toEqual({
      ...defaults,
      tax_rates: [{ id: expect.any(Number), name: 'VAT', rate: '20', inclusive: true, fulfillment: ['pickup', 'delivery'], applies_to_delivery_fee: false }],
    });
    expect(settingsOf(await put({}))).toEqual(defaults);
  });

  it('refuses an id that is not one of this restaurant’s entries of that kind, changing nothing', async () => {
    const current = settingsOf(await put(full()));
    const chargeId = current.service_charges[0]!.id;
    const res = await put({
      tax_rates: [
        { id: chargeId, name: 'Moved', rate: '1' },
        { id: 999_999, name: 'Invented', rate: '1' },
      ],
    });
    expect(problem(res, 400, 'validation_failed').errors).toEqual([
      { path: 'tax_rates.0.id', message: expect.any(String) },
      { path: 'tax_rates.1.id', message: expect.any(String) },
    ]);
    expect(settingsOf(await get())).toEqual(current);
  });

  it('lets only a manager change them: kitchen and customers get 403, the anonymous 401', async () => {
    const current = settingsOf(await get());
    problem(await put(full(), kitchen), 403, 'forbidden');
    problem(await put(full(), customer), 403, 'forbidden');
    problem(await put(full(), null), 401, 'unauthenticated');
    expect(settingsOf(await get())).toEqual(current);
  });

  it('keeps restaurants apart: another manager cannot change them, and their own stay the defaults', async () => {
    const mine = settingsOf(await put(full()));
    problem(await put(defaults, otherManager), 403, 'forbidden');
    expect(settingsOf(await get(otherDomain))).toEqual(defaults);
    // An id of this restaurant's entries is unknown in the other one.
    const stolen = { tax_rates: [{ id: mine.tax_rates[0]!.id, name: 'Stolen', rate: '5' }] };
    problem(await put(stolen, otherManager, otherDomain), 400, 'validation_failed');
    expect(settingsOf(await put({ rounding: 'half_up' }, otherManager, otherDomain))).toEqual({ ...defaults, rounding: 'half_up' });
    expect(settingsOf(await get())).toEqual(mine);
  });

  it('gives each of two managers saving at once their own new ids', async () => {
    const [a, b] = await Promise.all([put({ tax_rates: [{ name: 'A', rate: '1' }] }), put({ tax_rates: [{ name: 'B', rate: '2' }] })]);
    const ids = [settingsOf(a).tax_rates[0]!.id, settingsOf(b).tax_rates[0]!.id];
    expect(ids[0]).not.toBe(ids[1]);
    expect([[ids[0]], [ids[1]]]).toContainEqual(settingsOf(await get()).tax_rates.map(({ id }) => id));
  });

  const withRate = (rate: Record<string, unknown>) => ({ tax_rates: [{ name: 'Tax', rate: '5', ...rate }] });
  const withCharge = (charge: Record<string, unknown>) => ({ service_charges: [{ name: 'Service', ...charge }] });

  it.each<[string, unknown, string[]]>([
    ['a rate with 5 decimals', withRate({ rate: '8.87501' }), ['tax_rates.0.rate']],
    ['a rate sent as a number', withRate({ rate: 8.875 }), ['tax_rates.0.rate']],
    ['a rate over 100', withRate({ rate: '100.5' }), ['tax_rates.0.rate']],
    ['a negative rate', withRate({ rate: '-1' }), ['tax_rates.0.rate']],
    ['a rate with an exponent', withRate({ rate: '1e1' }), ['tax_rates.0.rate']],
    ['a blank name', withRate({ name: '   ' }), ['tax_rates.0.name']],
    ['an empty fulfillment list', withRate({ fulfillment: [] }), ['tax_rates.0.fulfillment']],
    ['a repeated fulfillment', withRate({ fulfillment: ['pickup', 'pickup'] }), ['tax_rates.0.fulfillment']],
    ['an unknown fulfillment', withRate({ fulfillment: ['drone'] }), ['tax_rates.0.fulfillment.0']],
    ['an unknown field on a rate', withRate({ compound: true }), ['tax_rates.0']],
    [
      'two tax rates with one name, whatever the case',
      {
        tax_rates: [
          { name: 'VAT', rate: '20' },
          { name: 'vat', rate: '5' },
        ],
      },
      ['tax_rates.1.name'],
    ],
    [
      'two service charges with one name',
      {
        service_charges: [
          { name: 'Service', percent: '10' },
          { name: 'Service', amount_cents: 100 },
        ],
      },
      ['service_charges.1.name'],
    ],
    ['a charge with both percent and amount_cents', withCharge({ percent: '10', amount_cents: 100 }), ['service_charges.0']],
    ['a charge with neither', withCharge({}), ['service_charges.0']],
    ['a negative charge', withCharge({ amount_cents: -1 }), ['service_charges.0.amount_cents']],
    ['a fractional charge', withCharge({ amount_cents: 1.5 }), ['service_charges.0.amount_cents']],
    ['a charge percent as a number', withCharge({ percent: 10 }), ['service_charges.0.percent']],
    [
      'one id on two entries',
      { tax_rates: [{ id: 1, name: 'A', rate: '1' }], service_charges: [{ id: 1, name: 'B', percent: '1' }] },
      ['service_charges.0.id'],
    ],
    ['an unknown rounding rule', { rounding: 'down' }, ['rounding']],
    ['a tip suggestion as a number', { tips: { enabled: true, suggested_percentages: [15] } }, ['tips.suggested_percentages.0']],
    ['a tip suggestion repeated', { tips: { enabled: true, suggested_percentages: ['15', '15.0'] } }, ['tips.suggested_percentages.1']],
    ['tips on as a string', { tips: { enabled: 'yes' } }, ['tips.enabled']],
    ['a negative delivery fee', { delivery: { fee_cents: -1 } }, ['delivery.fee_cents']],
    ['a fractional minimum', { delivery: { min_subtotal_cents: 10.5 } }, ['delivery.min_subtotal_cents']],
    ['a negative free-over threshold', { delivery: { free_over_cents: -5 } }, ['delivery.free_over_cents']],
    ['an unknown top-level field', { taxes: [] }, ['']],
    ['a body that is not an object', [1, 2], ['']],
  ])('refuses %s with 400 validation_failed and the path', async (_name, body, paths) => {
    const before = settingsOf(await get());
    const res = await put(body);
    const refusal = problem(res, 400, 'validation_failed');
    expect(refusal.errors?.map((e) => e.path)).toEqual(paths);
    expect(settingsOf(await get())).toEqual(before);
  });

  it('takes the demo bistro’s setup, which prices an order as the issue describes', async () => {
    const saved = settingsOf(await put(demoBistroPricing()));
    const subtotal = 1500 + 800 + 695 + 695;
    const b = priceOrder({
      lines: [1500, 800, 695, 695].map((total, index) => ({ id: index + 1, quantity: 1, line_total_cents: total })),
      rules: saved,
      fulfillment: 'delivery',
      currency: 'USD',
      delivery_fee_cents: deliveryFeeCents(saved.delivery, subtotal),
      tip: { tip_percent: saved.tips.suggested_percentages[1] },
    });
    // Service 10 % of 3690 = 369, spread 150 + 80 + 69.5 + 69.5 → 150, 80, 70, 69; taxed per line at 8.875 %:
    // 1650 → 146.44 → 146, 880 → 78.1 → 78, 765 → 67.89 → 68, 764 → 67.81 → 68; fee 399 → 35.41 → 35; tip 15 % = 553.5 → 554
    expect(b.service_charges).toEqual([{ name: 'Service', amount_cents: 369 }]);
    expect(b.delivery_fee_cents).toBe(399);
    expect(b.taxes).toEqual([{ name: 'Sales tax', rate: '8.875', inclusive: false, taxable_cents: 3690 + 369 + 399, tax_cents: 146 + 78 + 68 + 68 + 35 }]);
    expect(b.tip_cents).toBe(554);
    expect(b.total_cents).toBe(3690 + 369 + 399 + 395 + 554);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/restaurant/pricing'] ?? {}).sort()).toEqual(['get', 'put']);
  });
});
