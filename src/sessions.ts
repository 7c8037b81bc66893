import { and, eq } from 'drizzle-orm';
import type { Context, Handler } from 'hono';
import { session } from './db/schema';
import { AppError, databaseUnavailable, ErrorCode } from './errors';
import { callAuthEndpoint, forwardToAuth } from './middleware';
import type { AppEnv, SignedIn } from './request-context';

// Session reads without session tokens. Better Auth answers get-session with
// the caller's token and list-sessions with the token of every session of the
// user: one stolen cookie would harvest bearer credentials that outlive it,
// and any script on the origin would hold a bearer credential despite
// HttpOnly. Here a read returns ids; a token comes only from sign-in, sign-up
// and a password change (src/middleware.ts, TOKEN_ISSUING_PATHS), and one
// session is revoked by its id.

type Json = Record<string, unknown>;

/**
 * The signed-in session and user of a request, or 401: how our own routes
 * (/api/me, the events, the admin guard) read the caller. `disableRefresh`
 * for reads that must not extend the session.
 */
export async function requireSignedIn(c: Context<AppEnv>, options: { disableRefresh?: true } = {}): Promise<SignedIn> {
  const signedIn = await c.var.auth.api.getSession({ headers: c.req.raw.headers, query: options });
  // getSession answers null when it could not read the session at all.
  if (c.var.failedToReachDatabase()) throw databaseUnavailable();
  if (!signedIn) {
    throw new AppError(
      401,
      ErrorCode.UNAUTHORIZED,
      'Sign in first: send the session cookie or Authorization: Bearer <session token>.',
    );
  }
  return signedIn;
}

/** The same answer with its JSON body rewritten; status and headers (Set-Cookie too) kept. */
export async function rewriteJson(response: Response, rewrite: (body: unknown) => unknown): Promise<Response> {
  if (!response.ok || !response.headers.get('content-type')?.includes('application/json')) return response;
  const body = rewrite(await response.json());
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

export function withoutToken(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const { token: _token, ...rest } = item as Json;
  return rest;
}

/** `{ session, user }` (a session read, or a session an admin opened or left) without the session's token. */
export function sessionReadWithoutToken(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('session' in body)) return body;
  return { ...(body as Json), session: withoutToken((body as Json).session) };
}

/** GET /get-session, and /session (the documented name for it): the session and user, without the token. */
export const readSession: Handler<AppEnv> = async (c) =>
  rewriteJson(await callAuthEndpoint(c.var, c.req.raw, 'getSession'), sessionReadWithoutToken);

/** GET /list-sessions: the user's sessions, without their tokens. */
export const listSessions: Handler<AppEnv> = async (c) =>
  rewriteJson(await forwardToAuth(c.var, c.req.raw), (body) => (Array.isArray(body) ? body.map(withoutToken) : body));

/**
 * POST /revoke-session { id }: ends one session of the signed-in user. Better
 * Auth's endpoint takes the session's token, which reads no longer show: the
 * id is looked up among the caller's own sessions and handed to it as the
 * token, so its checks, cookie handling and hooks apply unchanged.
 */
export const revokeSessionById: Handler<AppEnv> = async (c) => {
  const id = c.var.body?.id as string;
  const current = await c.var.auth.api.getSession({ headers: c.req.raw.headers, query: { disableRefresh: true } });
  if (c.var.failedToReachDatabase()) throw databaseUnavailable();
  if (!current) throw new AppError(401, ErrorCode.UNAUTHORIZED, 'Sign in first.');
  const [target] = await c.var.db
    .select({ token: session.token })
    .from(session)
    .where(and(eq(session.id, id), eq(session.userId, current.user.id)))
    .limit(1);
  if (!target) throw new AppError(404, ErrorCode.SESSION_NOT_FOUND, 'You have no session with this id.');

  const headers = new Headers(c.req.raw.headers);
  headers.delete('content-length');
  return forwardToAuth(
    c.var,
    new Request(c.req.raw.url, { method: 'POST', headers, body: JSON.stringify({ token: target.token }) }),
  );
};
