import { eq, gt } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { session, user } from '../db/schema';
import { AppError, ErrorCode } from '../errors';
import { forwardToAuth } from '../middleware';
import type { AppEnv } from '../request-context';
import { requireSignedIn, rewriteJson, sessionReadWithoutToken, withoutToken } from '../sessions';
import { isAdmin, RECENT_SIGN_IN_MS } from './policy';

// What we add to Better Auth's admin plugin (its endpoints stay at their
// standard paths, /api/auth/admin/*): one guard in front of every admin
// endpoint, so a caller who is not an admin gets the same 401 or 403 whatever
// the endpoint; a recent sign-in for the changes that matter; and admin reads
// that carry session ids, never session tokens (docs/security.md, path 4).

type AppHandler = MiddlewareHandler<AppEnv>;

/** Signed in, as an admin: 401 or 403 otherwise. The session is `c.var.admin` from here on. */
export const requireAdmin: AppHandler = async function requireAdmin(c, next) {
  const signedIn = await requireSignedIn(c, { disableRefresh: true });
  if (!isAdmin(signedIn.user)) throw new AppError(403, ErrorCode.NOT_ADMIN, 'Only admins may do this.');
  c.set('admin', signedIn);
  await next();
};

/** After requireAdmin: the admin signed in at most RECENT_SIGN_IN_MS ago (src/admin/policy.ts). */
export const requireRecentSignIn: AppHandler = async function requireRecentSignIn(c, next) {
  const signedInAt = new Date(c.var.admin.session.createdAt).getTime();
  if (Date.now() - signedInAt > RECENT_SIGN_IN_MS) {
    throw new AppError(
      403,
      ErrorCode.SESSION_NOT_FRESH,
      `Sign in again to do this: roles, bans and impersonation need a sign-in from the last ${RECENT_SIGN_IN_MS / 60_000} minutes.`,
    );
  }
  await next();
};

/** Impersonation exists only where ADMIN_IMPERSONATION=true. */
export const requireImpersonationOn: AppHandler = async function requireImpersonationOn(c, next) {
  if (!c.var.config.adminImpersonation) {
    throw new AppError(404, ErrorCode.NOT_FOUND, 'Impersonation is off (ADMIN_IMPERSONATION).');
  }
  await next();
};

/**
 * GET /admin/get-user?id=: Better Auth's user, plus the user's live sessions
 * (ids, times, client; no tokens) and linked accounts (`credential` is the
 * password), read in one query.
 */
export const getUserWithSessions: AppHandler = async (c) => {
  const answer = await forwardToAuth(c.var, c.req.raw);
  if (!answer.ok) return answer;
  const found = await c.var.db.query.user.findFirst({
    where: eq(user.id, c.var.query?.id as string),
    columns: { id: true },
    with: {
      sessions: {
        columns: {
          id: true,
          createdAt: true,
          updatedAt: true,
          expiresAt: true,
          ipAddress: true,
          userAgent: true,
          impersonatedBy: true,
        },
        where: gt(session.expiresAt, new Date()),
        orderBy: (table, { desc }) => [desc(table.createdAt)],
      },
      accounts: { columns: { id: true, providerId: true, accountId: true, createdAt: true } },
    },
  });
  return rewriteJson(answer, (body) => ({
    ...(body as object),
    sessions: found?.sessions ?? [],
    accounts: found?.accounts ?? [],
  }));
};

/** POST /admin/list-user-sessions: Better Auth's list, without the tokens. */
export const listUserSessions: AppHandler = async (c) =>
  rewriteJson(await forwardToAuth(c.var, c.req.raw), (body) => {
    const { sessions } = body as { sessions?: unknown };
    return Array.isArray(sessions) ? { ...(body as object), sessions: sessions.map(withoutToken) } : body;
  });

/**
 * POST /admin/revoke-user-session { sessionId }: Better Auth's endpoint takes
 * the session's token, which admin reads no longer show; the id is looked up
 * and handed to it as the token, so its checks and hooks apply unchanged.
 */
export const revokeUserSessionById: AppHandler = async (c) => {
  const [target] = await c.var.db
    .select({ token: session.token })
    .from(session)
    .where(eq(session.id, c.var.body?.sessionId as string))
    .limit(1);
  if (!target) throw new AppError(404, ErrorCode.SESSION_NOT_FOUND, 'There is no session with this id.');
  const headers = new Headers(c.req.raw.headers);
  headers.delete('content-length');
  return forwardToAuth(
    c.var,
    new Request(c.req.raw.url, { method: 'POST', headers, body: JSON.stringify({ sessionToken: target.token }) }),
  );
};

/**
 * POST /admin/impersonate-user and /admin/stop-impersonating answer with the
 * session they open: the cookie carries it; the body keeps its id only.
 */
export const withoutSessionToken: AppHandler = async (c) =>
  rewriteJson(await forwardToAuth(c.var, c.req.raw), sessionReadWithoutToken);
