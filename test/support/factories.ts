import type { Knex } from 'knex';

let sequence = 0;
const next = () => {
  sequence += 1;
  return `${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
};

export interface RestaurantRow {
  id: number;
  domain: string;
  name: string;
  currency: string;
  timezone: string;
}

export async function createRestaurant(knex: Knex, overrides: Partial<Omit<RestaurantRow, 'id'>> = {}): Promise<RestaurantRow> {
  const [row] = await knex('restaurants')
    .insert({
      domain: overrides.domain ?? `r${next()}.example.com`.toLowerCase(),
      name: overrides.name ?? 'Test Bistro',
      currency: overrides.currency ?? 'EUR',
      timezone: overrides.timezone ?? 'Europe/Berlin',
    })
    .returning(['id', 'domain', 'name', 'currency', 'timezone']);
  return row as RestaurantRow;
}
