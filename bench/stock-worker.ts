// The baseline for `npm run bench`: Better Auth as its docs set it up on
// Workers, with its defaults (no joins, no transactions, no caches, its own
// JWKS from the database, no rate limits) over the same Neon driver and pool
// as auth-worker (src/db/client.ts), so the database work is counted the same
// way. Bench-only: never deployed.
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { bearer } from 'better-auth/plugins/bearer';
import { jwt } from 'better-auth/plugins/jwt';
import { createDb, databaseWork } from '../src/db/client';
import * as schema from '../src/db/schema';

interface StockEnv {
  DATABASE_URL: string;
  DATABASE_WS_PROXY?: string;
  /** Left unset by npm run bench, so the baseline sends every query over the WebSocket pool. */
  DATABASE_HTTP_PROXY?: string;
  BETTER_AUTH_SECRET: string;
  BETTER_AUTH_URL: string;
}

async function serve(request: Request, env: StockEnv, ctx: ExecutionContext): Promise<Response> {
  if (new URL(request.url).pathname === '/health') return Response.json({ status: 'ok' });
  const { db, close } = createDb({
    url: env.DATABASE_URL,
    wsProxy: env.DATABASE_WS_PROXY,
    httpProxy: env.DATABASE_HTTP_PROXY,
  });
  try {
    const auth = betterAuth({
      baseURL: env.BETTER_AUTH_URL,
      secret: env.BETTER_AUTH_SECRET,
      database: drizzleAdapter(db, { provider: 'pg', schema }),
      emailAndPassword: { enabled: true },
      telemetry: { enabled: false },
      plugins: [bearer(), jwt()],
    });
    return await auth.handler(request);
  } finally {
    ctx.waitUntil(close());
  }
}

export default {
  async fetch(request: Request, env: StockEnv, ctx: ExecutionContext): Promise<Response> {
    const before = databaseWork();
    const response = await serve(request, env, ctx);
    const after = databaseWork();
    const counted = new Response(response.body, response);
    counted.headers.append(
      'server-timing',
      `db;desc="queries=${after.queries - before.queries} connections=${after.connections - before.connections}"`,
    );
    return counted;
  },
};
