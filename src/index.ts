import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { eventRoutes } from './audit/routes';
import { mountAuthRoutes } from './auth-routes';
import { readConfig } from './config';
import { createDb, isDatabaseUnavailable } from './db/client';
import { AppError, databaseUnavailable, ErrorCode, toErrorResponse } from './errors';
import { publicKeyRoutes } from './jwt/routes';
import { MAX_BODY_BYTES } from './limits';
import {
  corsForTrustedOrigins,
  databaseStats,
  noStore,
  refuseForeignOrigins,
  refuseSeveralSessionCookies,
  requestLog,
} from './middleware';
import { pageRoutes } from './pages/routes';
import { RATE_LIMITS, RateLimiter, rateLimit } from './rate-limit';
import { type AppEnv, withAuth } from './request-context';
import { scheduled } from './scheduled';
import { requireSignedIn } from './sessions';

/** Builds the Worker's app. Every instance shares state only through Postgres and Durable Objects. */
export function createApp() {
  const app = new Hono<AppEnv>();

  app.use('*', requestId(), requestLog, databaseStats);
  app.use('*', async function allowSubrequests(c, next) {
    c.set('subrequest', async (request) => app.fetch(request, c.env, c.executionCtx));
    await next();
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/health/db', rateLimit(RATE_LIMITS.healthCheck), async (c) => {
    const { db, close } = createDb(readConfig(c.env).database);
    const started = Date.now();
    try {
      await db.execute('select 1');
      return c.json({ status: 'ok', latencyMs: Date.now() - started });
    } finally {
      c.executionCtx.waitUntil(close());
    }
  });

  // Before the /api/* middleware: public keys need no per-request database.
  app.route('/', publicKeyRoutes);
  // Pages need no per-request database either: they call /api/* from the
  // browser, or, for a form post without JavaScript, through c.var.subrequest.
  app.route('/', pageRoutes);

  app.use(
    '/api/*',
    noStore,
    corsForTrustedOrigins,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, ErrorCode.PAYLOAD_TOO_LARGE, `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      },
    }),
    refuseForeignOrigins,
    refuseSeveralSessionCookies,
    withAuth,
  );

  /** The signed-in user, read server-side: the pattern for any protected route. */
  app.get('/api/me', async (c) => {
    const { user, session } = await requireSignedIn(c);
    return c.json({
      user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerified },
      session: { id: session.id, expiresAt: session.expiresAt },
    });
  });

  // The audit log: a user's own events, and anyone's for admins.
  app.route('/', eventRoutes);

  // Every /api/auth route, from one table: schema → limits → handler.
  mountAuthRoutes(app);

  app.notFound((c) =>
    toErrorResponse(
      new AppError(404, ErrorCode.NOT_FOUND, `No route for ${c.req.method} ${c.req.path}.`),
      c.var.requestId,
    ),
  );
  // The one place errors become responses. Our own errors keep their code
  // (KEYS_UNAVAILABLE may wrap a database failure); any other database
  // failure, recognised by the database layer however deep a library wrapped
  // it, is 503 DATABASE_UNAVAILABLE.
  app.onError((error, c) =>
    toErrorResponse(
      !(error instanceof AppError) && isDatabaseUnavailable(error) ? databaseUnavailable(error) : error,
      c.var.requestId,
    ),
  );

  return app;
}

export const app = createApp();

export { RateLimiter };

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
