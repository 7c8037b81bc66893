import type { Handler } from 'hono';
import { forwardToAuth } from './middleware';
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
  const answer = await forwardToAuth(c.var, c.req.raw);
  const opened = openedSessionToken(answer);
  return rewriteJson(answer, (body) => {
    if (typeof body !== 'object' || body === null) return body;
    const { token, ...rest } = body as Record<string, unknown>;
    return opened && token === opened ? { ...rest, token } : rest;
  });
};
