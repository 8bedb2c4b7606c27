import type { Knex } from 'knex';
import type { Weekday } from '../src/modules/schedule/core.js';
import { setHours, type HoursInput } from '../src/modules/schedule/service.js';
import { replacePricingSettings } from '../src/modules/pricing/service.js';
import { demoBistroPricing } from '../src/modules/pricing/demo.js';
import { DEMO_MENU, menuOf, seedRestaurant, type DemoSeedOptions, type DemoSeedResult } from './demo-restaurant.js';

// The second demo restaurant: the same kitchen's dishes, but with opening hours, slots and a cap per slot,
// so a newcomer sees a restaurant that closes (demo.localhost is always open).
export const BISTRO_DOMAIN = 'bistro.localhost';

export const BISTRO_RESTAURANT = {
  domain: BISTRO_DOMAIN,
  name: 'Tablekit Bistro',
  currency: 'EUR',
  timezone: 'Europe/Berlin',
} as const;

export const BISTRO_MENU = menuOf(DEMO_MENU, [
  'Pizza Margherita',
  'Pizza Diavola',
  'Pizza Funghi',
  'Chicken Caesar Salad',
  'Side Salad',
  'Homemade Lemonade',
  'Cappuccino',
  'Affogato',
]);

const lunchDays: readonly Weekday[] = ['tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const lateDays: readonly Weekday[] = ['fri', 'sat'];

/** Closed on Mondays; lunch and dinner the other days, dinner an hour longer on Friday and Saturday. */
export const BISTRO_HOURS: HoursInput = {
  weekly: lunchDays.flatMap((day) => [
    { day, opens: '12:00', closes: '14:30' },
    { day, opens: '18:00', closes: lateDays.includes(day) ? '23:30' : '22:30' },
  ]),
  lead_time_minutes: 20,
  slot_minutes: 15,
  max_orders_per_slot: 8,
  order_ahead_days: 7,
};

/** Creates bistro.localhost with its menu and hours once; later runs only keep the given manager in place. */
export async function seedBistroRestaurant(knex: Knex, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  return seedRestaurant(
    knex,
    {
      restaurant: BISTRO_RESTAURANT,
      menu: BISTRO_MENU,
      afterCreate: async (trx, restaurantId) => {
        await setHours(trx, restaurantId, BISTRO_HOURS);
        // A sales tax, a taxable service charge and tips, so a newcomer sees a full breakdown in the quote.
        await replacePricingSettings(trx, restaurantId, demoBistroPricing());
      },
    },
    options,
  );
}
