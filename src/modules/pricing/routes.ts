import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { pricingSettingsBody, pricingSettingsSchema } from './schemas.js';
import { getPricingSettings, replacePricingSettings } from './service.js';

const tags = ['pricing'];

export function registerPricingRoutes(api: ApiRouter): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant/pricing',
    // Public like the menu: customers need the tips and delivery terms before they order, and taxes are on the bill anyway.
    summary: "This restaurant's taxes, service charges, rounding, tips and delivery terms (anyone may read)",
    tags,
    access: access.public,
    description:
      'Tax rates (inclusive or exclusive, per fulfillment, on the delivery fee or not), service charges (percent or amount, taxable or not), ' +
      'the rounding rule, tips and the default delivery terms. Customers read it to show tip suggestions and delivery terms before ordering.',
    responses: { 200: { description: 'The settings (the defaults until a manager saves some)', schema: pricingSettingsSchema } },
    handler: async ({ tenant }) => ({ status: 200, body: await getPricingSettings(api.deps.db, tenant.id) }),
  });

  defineRoute(api, {
    method: 'put',
    path: '/v1/restaurant/pricing',
    summary: 'Replace the pricing settings (manager)',
    tags,
    access: access.manager,
    description:
      'Replaces the whole settings: parts left out take their defaults. Rates are decimal strings from 0 to 100 with at most 4 decimals; ' +
      'names are unique among tax rates and among charges; an entry sent with its id keeps it, a new one gets a fresh id that is never reused.',
    body: pricingSettingsBody,
    responses: { 200: { description: 'The settings as saved, every entry with its id', schema: pricingSettingsSchema } },
    handler: async ({ tenant, body }) => ({ status: 200, body: await replacePricingSettings(api.deps.db, tenant.id, body) }),
  });
}
