import type { MiddlewareHandler } from 'hono';
import { createAuth } from './auth';
import { createDb } from './db/client';
import { type AppEnv, readConfig } from './env';
import { keySourceFor } from './jwt/keys';

/**
 * Creates the database pool and Better Auth for this request and closes the
 * pool once the response is on its way. Only routes that need the database
 * mount it, so /health never opens a connection.
 */
export const withAuth: MiddlewareHandler<AppEnv> = async function withAuth(c, next) {
  const config = readConfig(c.env);
  const { db, close } = createDb(config);
  c.set('config', config);
  c.set('db', db);
  c.set('auth', createAuth(config, db, keySourceFor(config, c.executionCtx)));
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(close());
  }
};

// Better Auth paths can carry secrets (/reset-password/:token): keep only
// segments that look like endpoint names.
const ENDPOINT_SEGMENT = /^[a-z][a-z-]{0,31}$/;

function loggablePath(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '' || ENDPOINT_SEGMENT.test(segment) ? segment : ':param'))
    .join('/');
}

/** One JSON line per request; never a body, header, query string or credential. */
export const requestLog: MiddlewareHandler<AppEnv> = async function requestLog(c, next) {
  const started = Date.now();
  await next();
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? 'error' : 'info',
      requestId: c.get('requestId'),
      method: c.req.method,
      route: loggablePath(c.req.path),
      status: c.res.status,
      durationMs: Date.now() - started,
    }),
  );
};
