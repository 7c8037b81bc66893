import { defineConfig } from 'vitest/config';
import { workersPool } from '../test/setup/workers-pool.ts';

// bench/workerd: measurements inside workerd (password hashing, connection
// cost), run by `npm run bench`. They print numbers and assert only results,
// never timings. Same database setup as the tests (TEST_DATABASE_URL or PGlite).
export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  plugins: [workersPool({ BENCH_SMOKE: process.env.BENCH_SMOKE ?? '' })],
  test: {
    globalSetup: ['./test/setup/database.ts'],
    include: ['bench/workerd/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
