import { isAPIError } from 'better-auth/api';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { readConfig } from './config';
import { databaseWork } from './db/client';
import { AppError, databaseUnavailable, ErrorCode, withErrorShape } from './errors';
import { STATE_CHANGING_METHODS } from './input';
import { AUTH_BASE_PATH } from './paths';
import { sessionCookiesIn } from './rate-limit';
import type { AppEnv } from './request-context';

/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const trustedOriginCors = cors({
  // Only reached for an origin already found in TRUSTED_ORIGINS (below).
  origin: (origin) => origin,
  credentials: true,
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: ['content-type', 'authorization'],
  exposeHeaders: ['set-auth-token', 'retry-after', 'x-request-id'],
  maxAge: PREFLIGHT_MAX_AGE_SECONDS,
});

/**
 * CORS for the web apps in TRUSTED_ORIGINS: they call /api/* from the browser
 * with `credentials: 'include'`. Any other origin gets no CORS header at all
 * (its preflight is a 403), so the browser keeps it from reading answers.
 * Every answer varies by Origin. The public key documents are mounted before
 * this and keep `Access-Control-Allow-Origin: *`.
 */
export const corsForTrustedOrigins: MiddlewareHandler<AppEnv> = async function corsForTrustedOrigins(c, next) {
  const origin = c.req.header('origin');
  if (origin !== undefined && readConfig(c.env).trustedOrigins.includes(origin)) return trustedOriginCors(c, next);
  if (origin !== undefined && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
    throw new AppError(403, ErrorCode.INVALID_ORIGIN, 'This origin may not call this API; add it to TRUSTED_ORIGINS.');
  }
  await next();
  c.header('vary', 'Origin', { append: true });
};

/**
 * A browser holds one session cookie for us. A request with several is not a
 * browser's: each would be looked up and counted (one rate-limiter object per
 * credential), so 300 of them cost us seconds. Refused before any of that.
 */
export const refuseSeveralSessionCookies: MiddlewareHandler<AppEnv> = async function refuseSeveralSessionCookies(
  c,
  next,
) {
  if (sessionCookiesIn(c.req.header('cookie')).length > 1) {
    throw new AppError(
      400,
      ErrorCode.MULTIPLE_SESSION_COOKIES,
      'Send at most one session cookie (and at most one bearer token).',
    );
  }
  await next();
};

/**
 * Every answer under /api/* carries credentials or is about the signed-in
 * person (their user, sessions, events): no shared or browser cache keeps
 * it, whichever route made it. Routes that set their own Cache-Control keep it.
 */
export const noStore: MiddlewareHandler<AppEnv> = async function noStore(c, next) {
  await next();
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};

/**
 * Refuses state-changing requests that a browser sent from a foreign site.
 * Better Auth checks the Origin only when cookies are sent; this also stops
 * login CSRF (a foreign page signing the victim into the attacker's account).
 * Requests without an Origin (servers, mobile apps, curl) pass here; Better
 * Auth still refuses those that carry cookies.
 */
export const refuseForeignOrigins: MiddlewareHandler<AppEnv> = async function refuseForeignOrigins(c, next) {
  if (!STATE_CHANGING_METHODS.has(c.req.method)) return next();
  const origin = c.req.header('origin');
  const crossSite = c.req.header('sec-fetch-site') === 'cross-site';
  if (origin === undefined && !crossSite) return next();
  if (origin !== undefined && readConfig(c.env).trustedOrigins.includes(origin)) return next();
  throw new AppError(
    403,
    ErrorCode.INVALID_ORIGIN,
    'This origin may not make this request; add it to TRUSTED_ORIGINS.',
  );
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

/**
 * The endpoints whose answer may carry a session token (the `token` field and
 * Better Auth's `set-auth-token` header): those that create a session from a
 * proof of identity (a password, a code, a passkey). Every other answer drops
 * the header, which Better Auth sets whenever it refreshes a session cookie
 * (src/sessions.ts says why). Turning two-factor on or off replaces the
 * caller's session, so its answer carries the new one.
 */
const TOKEN_ISSUING_PATHS = new Set(
  [
    '/sign-in/email',
    '/sign-up/email',
    '/sign-in/social',
    '/change-password',
    '/two-factor/verify-totp',
    '/two-factor/verify-backup-code',
    '/two-factor/disable',
    '/passkey/verify-authentication',
  ].map((path) => AUTH_BASE_PATH + path),
);

/** Whether an answer sets a session cookie with a value (not one that clears it). */
function opensSession(headers: Headers): boolean {
  return headers.getSetCookie().some((cookie) => /^(?:__Secure-)?better-auth\.session_token=[^;]/.test(cookie));
}

/**
 * Hands a request to Better Auth and gives its answer our guarantees: our
 * error shape, no caching of credentials, no session token outside sign-in,
 * and 503 when the database failed.
 */
export async function forwardToAuth(vars: AppEnv['Variables'], request: Request): Promise<Response> {
  return withOurGuarantees(vars, request, await vars.auth.handler(request));
}

/** The Better Auth endpoints the hot reads call directly (callAuthEndpoint). */
export type DirectAuthEndpoint = 'getSession' | 'getToken';

/**
 * forwardToAuth for the hot reads (a session, a token): calls the endpoint
 * directly, as requireSignedIn reads a session, with the same hooks and the
 * same answer. Better Auth's handler builds its whole router again on every
 * call, a tenth of a token's CPU in a local profile; a direct call does not.
 */
export async function callAuthEndpoint(
  vars: AppEnv['Variables'],
  request: Request,
  endpoint: DirectAuthEndpoint,
): Promise<Response> {
  const call = {
    headers: request.headers,
    query: Object.fromEntries(new URL(request.url).searchParams),
    request,
    asResponse: true,
  } as const;
  const answer = await (endpoint === 'getSession' ? vars.auth.api.getSession(call) : vars.auth.api.getToken(call))
    // An input Better Auth refuses before its endpoint runs is thrown, not
    // answered; its router would answer it, and so does this.
    .catch((error: unknown) => {
      if (!isAPIError(error)) throw error;
      return Response.json(error.body ?? {}, { status: error.statusCode, headers: error.headers ?? undefined });
    });
  return withOurGuarantees(vars, request, answer);
}

async function withOurGuarantees(vars: AppEnv['Variables'], request: Request, answer: Response): Promise<Response> {
  // Better Auth turns some database failures into a 500, others into "no
  // session" (401, or null): any answer computed without the database is wrong.
  if (vars.failedToReachDatabase()) throw databaseUnavailable();
  const response = await withErrorShape(answer, vars.requestId);
  const headers = new Headers(response.headers);
  // Only an answer that opens a session carries its token: a password whose
  // two-factor code is still to come opens none (Better Auth names the
  // session it opened and then deleted).
  if (!TOKEN_ISSUING_PATHS.has(new URL(request.url).pathname) || !opensSession(headers)) {
    headers.delete('set-auth-token');
    const exposed = headers
      .get('access-control-expose-headers')
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name && name.toLowerCase() !== 'set-auth-token');
    if (exposed?.length) headers.set('access-control-expose-headers', exposed.join(', '));
    else headers.delete('access-control-expose-headers');
  }
  // Auth answers carry sessions and tokens: no shared or browser cache keeps them.
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Local benchmarks only (BENCH_DATABASE_STATS=1, refused unless the Worker
 * runs on localhost): the queries, WebSocket connections and statements sent
 * over HTTP this isolate made while serving the request, as
 * `Server-Timing: db;desc="queries=N connections=M http=K"`, and the
 * Worker's own time on it as `worker;dur=MS`.
 * The counters are per isolate, so the figure is exact only when requests do
 * not overlap; the benchmark reads it from its one-at-a-time runs.
 */
export const databaseStats: MiddlewareHandler<AppEnv> = async function databaseStats(c, next) {
  // The variable is looked at first so that /health needs no valid configuration.
  if (!c.env.BENCH_DATABASE_STATS?.trim() || !readConfig(c.env).benchDatabaseStats) return next();
  const before = databaseWork();
  const started = Date.now();
  await next();
  // Local workerd moves its clock on during computation (the deployed runtime
  // does not), so this is the Worker's own time, waits included.
  const workerMs = Date.now() - started;
  const after = databaseWork();
  // A copy: a response from the edge cache has immutable headers.
  c.res = new Response(c.res.body, c.res);
  c.res.headers.append(
    'server-timing',
    `db;desc="queries=${after.queries - before.queries} connections=${after.connections - before.connections} http=${after.httpQueries - before.httpQueries}"`,
  );
  c.res.headers.append('server-timing', `worker;dur=${workerMs}`);
};
