import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // moto_server is started once for the whole run; integration tests read its URL from
    // process.env.MOTO_ENDPOINT (see test/support/moto-global-setup.ts).
    globalSetup: ['test/support/moto-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    coverage: {
      provider: 'v8',
      include: ['lambdas/**/*.ts', 'emulator/**/*.ts', 'cli/**/*.ts', 'lib/**/*.ts'],
      exclude: ['**/*.d.ts', 'emulator/main.ts', 'test/**', 'bench/**'],
      reporter: ['text-summary', 'text'],
    },
  },
});
