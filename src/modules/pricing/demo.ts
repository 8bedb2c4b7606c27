import type { PricingSettingsUpdate } from './schemas.js';

/**
 * A realistic setup for the second demo restaurant (bistro.localhost), to seed with
 * `replacePricingSettings(db, restaurantId, demoBistroPricing())`: New York City's 8.875 % sales tax added
 * on top of the prices and on the delivery fee, a taxable 10 % service charge on every order (New York
 * taxes both), tips on with 10/15/20 % suggested, and a 3.99 delivery fee waived from 40.00 with a 15.00
 * minimum.
 */
export function demoBistroPricing(): PricingSettingsUpdate {
  return {
    tax_rates: [{ name: 'Sales tax', rate: '8.875', inclusive: false, fulfillment: ['pickup', 'delivery'], applies_to_delivery_fee: true }],
    service_charges: [{ name: 'Service', percent: '10', fulfillment: ['pickup', 'delivery'], taxable: true }],
    rounding: 'half_even',
    tips: { enabled: true, suggested_percentages: ['10', '15', '20'] },
    delivery: { fee_cents: 399, min_subtotal_cents: 1500, free_over_cents: 4000 },
  };
}
