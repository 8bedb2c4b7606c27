import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` runs test/**, except the fault tests. `npm run test:faults` (vitest run --mode faults) runs
// test/faults/ alone, one file at a time: they start, signal and kill the service as a separate process
// and load the machine while they do.
export default defineConfig(({ mode }) => {
  const faults = mode === 'faults';
  return {
    test: {
      include: faults ? ['test/faults/**/*.test.ts'] : ['test/**/*.test.ts'],
      exclude: faults ? configDefaults.exclude : [...configDefaults.exclude, 'test/faults/**'],
      globalSetup: ['test/support/global-setup.ts'],
      // Each file has its own database; files run in parallel processes, tests within a file in order.
      pool: 'forks',
      fileParallelism: !faults,
      testTimeout: faults ? 180_000 : 30_000,
      hookTimeout: faults ? 120_000 : 60_000,
      reporters: ['default'],
    },
  };
});
