import { configDefaults, defineConfig } from 'vitest/config';
import { TEST_EMAIL_FROM, TEST_RESEND_API_KEY } from './test/setup/constants.ts';
import { workersPool } from './test/setup/workers-pool.ts';

// Tests run inside workerd (the Workers runtime) and reach Postgres through the
// Neon driver and the local WebSocket proxy, exactly like `npm run dev`.
// test/setup/database.ts starts the database and proxy in Node first.
export default defineConfig({
  plugins: [
    // Mail goes to the fake Resend installed by test/setup/email-api.ts.
    workersPool({ RESEND_API_KEY: TEST_RESEND_API_KEY, EMAIL_FROM: TEST_EMAIL_FROM }),
  ],
  test: {
    globalSetup: ['./test/setup/database.ts'],
    setupFiles: ['./test/setup/email-api.ts'],
    include: ['test/**/*.test.ts'],
    // The dev-tooling tests run in Node (vitest.node.config.ts), not in workerd.
    exclude: [...configDefaults.exclude, 'test/dev-tooling/**'],
    // Files share one database, and the key tests move the signing-key
    // lifecycle with a controlled clock: run files one at a time.
    fileParallelism: false,
    // The Worker logs a JSON line per request; show logs only for failing tests.
    silent: 'passed-only',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
