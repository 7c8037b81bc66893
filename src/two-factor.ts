import { and, eq, ne } from 'drizzle-orm';
import type { Context, Handler } from 'hono';
import { session } from './db/schema';
import { AppError, ErrorCode } from './errors';
import { TOTP_REUSE_WINDOW_MS } from './mfa';
import { forwardToAuth } from './middleware';
import { keyFor, limiterFor, logLimiterUnavailable, pendingSignInUser, refuse } from './rate-limit';
import type { AppEnv } from './request-context';
import { rewriteJson } from './sessions';

const SESSION_COOKIE_SET = /^(?:__Secure-)?better-auth\.session_token=([^;]+)/;

/** The token of the session an answer opened (its cookie's value before the signature), if any. */
function openedSessionToken(answer: Response): string | undefined {
  for (const cookie of answer.headers.getSetCookie()) {
    const value = cookie.match(SESSION_COOKIE_SET)?.[1];
    if (!value) continue;
    try {
      return decodeURIComponent(value).split('.')[0];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * POST /two-factor/verify-totp and /verify-backup-code. A code that completes
 * a sign-in opens a session: its token is in the answer, as after a password
 * sign-in. Better Auth also answers a signed-in caller's code with the
 * caller's own session token (an old one, when turning two-factor on replaced
 * it): that would hand a bearer credential to any script holding only the
 * HttpOnly cookie (src/sessions.ts), so the answer keeps `token` only when it
 * is the session this answer opened.
 */
export const twoFactorCodeAnswer: Handler<AppEnv> = async (c) => {
  const claims = c.req.path.endsWith('/verify-totp') ? await claimTotpCode(c) : [];
  const answer = await forwardToAuth(c.var, c.req.raw).catch(async (error: unknown) => {
    await Promise.all(claims.map((release) => release()));
    throw error;
  });
  if (!answer.ok) await Promise.all(claims.map((release) => release()));
  const opened = openedSessionToken(answer);
  let turnedOn: string | undefined;
  const rewritten = await rewriteJson(answer, (body) => {
    if (typeof body !== 'object' || body === null) return body;
    const { token, ...rest } = body as Record<string, unknown>;
    // A new session that is not the answer's `token` replaced the caller's:
    // the code turned two-factor on (a sign-in's answer names its session).
    if (opened && token !== opened) turnedOn = opened;
    return opened && token === opened ? { ...rest, token } : rest;
  });
  if (turnedOn) await endOtherSessions(c, turnedOn);
  return rewritten;
};

/**
 * Two-factor just turned on: every other session of the user was opened with
 * the password alone, perhaps by someone who has it. Left alive, such a
 * session plus the password reads the new TOTP secret (get-totp-uri), makes
 * new backup codes or turns two-factor off again, so the second factor would
 * keep out nobody who was already in. Only the session that turned it on stays.
 */
async function endOtherSessions(c: Context<AppEnv>, keep: string): Promise<void> {
  const [kept] = await c.var.db.select({ userId: session.userId }).from(session).where(eq(session.token, keep));
  if (!kept) return;
  await c.var.db.delete(session).where(and(eq(session.userId, kept.userId), ne(session.token, keep)));
}

/**
 * A TOTP code passes once (RFC 6238 §5.2): Better Auth would accept the same
 * code again for as long as its time step is within the window, so whoever
 * saw it typed (and knows the password) could sign in with it too. A code
 * that completes a sign-in is claimed for its account before the check,
 * atomically (a Durable Object per account), and given back if the check
 * fails; a code taken already is a wrong code (401, counted by the code
 * limit). The signed-in check that turns two-factor on opens no session and
 * claims nothing.
 */
async function claimTotpCode(c: Context<AppEnv>): Promise<Array<() => Promise<void>>> {
  const code = c.get('body')?.code;
  if (typeof code !== 'string') return [];
  const userId = await pendingSignInUser(c);
  if (!userId) return [];
  const limiter = limiterFor(c, await keyFor('totp-used', 'account', userId));
  // Unreachable, it refuses the code like the per-account limit does: a used code must not pass.
  const claimed = await limiter.claim(code, TOTP_REUSE_WINDOW_MS).catch((error: unknown) => {
    logLimiterUnavailable(error);
    throw refuse(60);
  });
  if (claimed) return [() => limiter.release(code).catch(logLimiterUnavailable)];
  throw new AppError(401, ErrorCode.INVALID_CODE, 'This code was used already; wait for the next one.');
}
