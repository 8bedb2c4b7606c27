import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The tests Stryker runs for each mutant (`npm run test:mutation`, stryker.config.mjs): those that pin
// down the money and order core, and no slower file. Stryker runs them in one thread and, per mutant,
// only the tests that reached it. (Not mergeConfig: it would append to the base `include`, not replace it.)
const shared = base({ mode: 'test', command: 'serve' });

export default defineConfig({
  ...shared,
  test: {
    ...shared.test,
    include: [
      'test/order-money-core.test.ts',
      'test/settlement-edges.test.ts',
      'test/checkout-edges.test.ts',
      'test/idempotency.test.ts',
      'test/idempotency-edges.test.ts',
      'test/pagination-edges.test.ts',
      'test/orders.test.ts',
      'test/checkout-rules.test.ts',
      'test/pricing.test.ts',
      'test/schedule-core.test.ts',
    ],
  },
});
