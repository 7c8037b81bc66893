import type { Handler, MiddlewareHandler } from 'hono';
import { AppError, databaseUnavailable, ErrorCode } from './errors';
import { PASSKEY_RECENT_SIGN_IN_MS } from './mfa';
import { forwardToAuth } from './middleware';
import type { AppEnv } from './request-context';

/**
 * GET /passkey/generate-register-options: a passkey outlives the session that
 * added it (a password reset ends sessions, not passkeys), so a stolen session
 * must not be able to add one. Adding needs a sign-in from the last
 * PASSKEY_RECENT_SIGN_IN_MS; Better Auth alone accepts any session younger
 * than a day. Without a session, Better Auth answers 401 as before. An
 * impersonated session adds none at all (verify-registration then has no
 * challenge for it: the plugin ties each challenge to the user it was made for).
 */
export const requireRecentSignInForPasskey: MiddlewareHandler<AppEnv> = async function requireRecentSignInForPasskey(
  c,
  next,
) {
  const signedIn = await c.var.auth.api.getSession({ headers: c.req.raw.headers, query: { disableRefresh: true } });
  if (c.var.failedToReachDatabase()) throw databaseUnavailable();
  // An admin acting as the user (impersonation) proved nothing as the user: a
  // passkey left behind would let the admin sign in as them later, unmarked.
  if ((signedIn?.session as { impersonatedBy?: string | null } | undefined)?.impersonatedBy) {
    throw new AppError(403, ErrorCode.IMPERSONATED_SESSION, 'An impersonated session cannot add a passkey.');
  }
  if (signedIn && Date.now() - new Date(signedIn.session.createdAt).getTime() > PASSKEY_RECENT_SIGN_IN_MS) {
    throw new AppError(
      403,
      ErrorCode.SESSION_NOT_FRESH,
      `Sign in again to add a passkey: it needs a sign-in from the last ${PASSKEY_RECENT_SIGN_IN_MS / 60_000} minutes.`,
    );
  }
  await next();
};

/**
 * POST /passkey/verify-registration. The passkey plugin answers every
 * registration its library refuses (another origin, a wrong challenge, a
 * malformed attestation) with 500 FAILED_TO_VERIFY_REGISTRATION. Those are
 * the client's: 400 with the same code. A database failure never gets here
 * as that code: forwardToAuth answers it with 503 first.
 */
export const passkeyRegistrationAnswer: Handler<AppEnv> = async (c) => {
  const answer = await forwardToAuth(c.var, c.req.raw);
  if (answer.status !== 500) return answer;
  const body = (await answer
    .clone()
    .json()
    .catch(() => null)) as { code?: unknown } | null;
  if (body?.code !== 'FAILED_TO_VERIFY_REGISTRATION') return answer;
  return new Response(answer.body, { status: 400, headers: answer.headers });
};
