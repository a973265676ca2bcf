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
    ],
  },
});
