import { defineConfig } from 'vitest/config';

// Unit tests need nothing outside the process. Integration tests (*.int.test.ts) get
// their own project with the real-broker global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          // Resolves Kafka once per run (src/kafka/brokers.ts) and stops only what it started.
          globalSetup: ['test/setup/kafka-global-setup.ts', 'test/setup/registry-global-setup.ts'],
          // One file at a time: they share one broker on a 2-core machine.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
