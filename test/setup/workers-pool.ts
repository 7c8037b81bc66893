import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { buildPageAssets } from '../../scripts/lib/page-assets.ts';
import { TEST_AUTH_URL, TEST_SECRET } from './constants.ts';

/**
 * The Workers pool shared by the test suite and the workerd benchmarks: the
 * Worker from wrangler.toml, reaching the Postgres that test/setup/database.ts
 * started (or TEST_DATABASE_URL) through the Neon driver and the local proxies
 * (WebSockets for transactions, Neon's HTTP query path for single statements).
 */
export function workersPool(bindings: Record<string, string> = {}) {
  // wrangler.toml's [build], which the pool does not run: the Worker imports the built page assets.
  buildPageAssets();
  return cloudflareTest(({ inject }) => ({
    wrangler: { configPath: './wrangler.toml' },
    miniflare: {
      bindings: {
        DATABASE_URL: inject<string>('databaseUrl'),
        DATABASE_WS_PROXY: inject<string>('databaseWsProxy'),
        DATABASE_HTTP_PROXY: inject<string>('databaseHttpProxy'),
        BETTER_AUTH_SECRET: TEST_SECRET,
        BETTER_AUTH_URL: TEST_AUTH_URL,
        ...bindings,
      },
    },
  }));
}
