import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_AUTH_URL, TEST_SECRET } from '../test/setup/constants.ts';

// bench/workerd: measurements inside workerd (password hashing, connection
// cost), run by `npm run bench`. They print numbers and assert only results,
// never timings. Same database setup as the tests (TEST_DATABASE_URL or PGlite).
export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          DATABASE_URL: inject<string>('databaseUrl'),
          DATABASE_WS_PROXY: inject<string>('databaseWsProxy'),
          BETTER_AUTH_SECRET: TEST_SECRET,
          BETTER_AUTH_URL: TEST_AUTH_URL,
          BENCH_SMOKE: process.env.BENCH_SMOKE ?? '',
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/setup/database.ts'],
    include: ['bench/workerd/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
