// Mutation testing of the money and order core: `DATABASE_URL=postgres://… npm run test:mutation`.
// The tests run on real PostgreSQL (the embedded one is too slow to start once per mutant run). One
// file at a time while working on it: `npm run test:mutation -- --mutate src/http/pagination.ts`.
if (!process.env.DATABASE_URL) {
  console.error(
    'test:mutation runs the tests on PostgreSQL: set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run test:mutation',
  );
  process.exit(1);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: [
    'src/modules/orders/state-machine.ts',
    'src/modules/orders/payment-status.ts',
    'src/modules/orders/checkout.ts',
    'src/http/idempotency.ts',
    'src/http/pagination.ts',
    'src/lib/cursor.ts',
    'src/modules/payments/settlement.ts',
    // The second release's pure modules (at least 90 %).
    'src/modules/pricing/price.ts',
    'src/modules/pricing/arithmetic.ts',
    'src/modules/schedule/core.ts',
  ],
  coverageAnalysis: 'perTest',
  // One Stryker worker running vitest in one thread: the machine is shared, and the tests use the database.
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 90, low: 85, break: 85 },
  ignorePatterns: ['bench/results', '.data', 'dist', 'coverage', 'reports'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
