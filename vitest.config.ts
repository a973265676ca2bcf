import { defineConfig } from 'vitest/config';

// Unit tests need nothing outside the process. Integration tests (*.int.test.ts) get
// their own project with the real-broker global setup; model tests (*.model.test.ts), on
// the imported default teacher and the tools' Python venv, one whose setup makes both.
// The llama.cpp server tests (*.server.int.test.ts) build llama-cpp-python from source on
// first use (about 10 minutes on two cores), so they run only in `npm run test:servers`;
// their reduced form (*.prebuilt.int.test.ts, llama.cpp's prebuilt server from PyPI, seconds
// to install) runs with the integration tests.
const serverTests = 'test/**/*.server.int.test.ts';
const withServers = process.env.TEACHERLM_SERVER_TESTS === '1';
// The heaviest integration files (a minute or more each on 2 cores): the chaos suite's
// reduced form, the student feed's chaos test, the student trainer, the llama.cpp server.
// TEACHERLM_INTEGRATION_REDUCED=1 leaves them out: .ci/run's Node 24 pass, after npm test ran them on Node 20.
const heavyIntegration = [
  'test/chaos/chaos.int.test.ts',
  'test/student-feed/student-feed-chaos.int.test.ts',
  'test/examples/student-trainer.int.test.ts',
  'test/**/*.prebuilt.int.test.ts',
];
const reducedIntegration = process.env.TEACHERLM_INTEGRATION_REDUCED === '1';

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
          exclude: [serverTests, ...(reducedIntegration ? heavyIntegration : [])],
          // Resolves Kafka once per run (src/kafka/brokers.ts) and stops only what it started.
          globalSetup: ['test/setup/kafka-global-setup.ts', 'test/setup/registry-global-setup.ts'],
          // One file at a time: they share one broker on a 2-core machine.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      ...(withServers
        ? [
            {
              test: {
                name: 'servers',
                include: [serverTests],
                globalSetup: ['test/setup/kafka-global-setup.ts', 'test/setup/model-global-setup.ts'],
                fileParallelism: false,
                testTimeout: 600_000,
                // The first run builds llama-cpp-python.
                hookTimeout: 3_600_000,
              },
            },
          ]
        : []),
    ],
  },
});
