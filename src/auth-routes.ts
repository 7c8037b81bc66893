import type { z } from 'zod';
import {
  changeEmailBody,
  changePasswordBody,
  idTokenNonceBody,
  passwordResetBody,
  passwordResetRequestBody,
  signInBody,
  signUpBody,
  socialSignInBody,
  updateUserBody,
  verificationEmailBody,
} from './input';
import { RATE_LIMITS, type RateLimitRule } from './rate-limit';

// What happens to a request under /api/auth before Better Auth sees it: the
// body schema it must pass (validated first: cheap, and it yields the account
// key) and the limits it counts against. Paths are Better Auth's, relative to
// AUTH_BASE_PATH. Every endpoint that checks a password or a one-time code
// must have an entry with a per-account limit, or be in DISABLED_AUTH_PATHS;
// test/takeover.test.ts checks that against Better Auth's own endpoint list.

export interface AuthRouteGuard {
  method: 'GET' | 'POST';
  path: string;
  body?: z.ZodType<Record<string, unknown>>;
  limit?: RateLimitRule;
}

export const AUTH_ROUTE_GUARDS: readonly AuthRouteGuard[] = [
  { method: 'POST', path: '/sign-up/email', body: signUpBody, limit: RATE_LIMITS.signUp },
  { method: 'POST', path: '/sign-in/email', body: signInBody, limit: RATE_LIMITS.signIn },
  { method: 'POST', path: '/sign-in/social', body: socialSignInBody, limit: RATE_LIMITS.providerSignIn },
  { method: 'GET', path: '/sign-in/:provider', limit: RATE_LIMITS.providerSignIn },
  { method: 'POST', path: '/id-token-nonce', body: idTokenNonceBody, limit: RATE_LIMITS.idTokenNonce },
  {
    method: 'POST',
    path: '/request-password-reset',
    body: passwordResetRequestBody,
    limit: RATE_LIMITS.passwordResetRequest,
  },
  { method: 'POST', path: '/reset-password', body: passwordResetBody, limit: RATE_LIMITS.passwordReset },
  { method: 'POST', path: '/update-user', body: updateUserBody },
  { method: 'POST', path: '/change-password', body: changePasswordBody, limit: RATE_LIMITS.passwordCheck },
  { method: 'POST', path: '/change-email', body: changeEmailBody },
  {
    method: 'POST',
    path: '/send-verification-email',
    body: verificationEmailBody,
    limit: RATE_LIMITS.verificationEmail,
  },
  { method: 'GET', path: '/token', limit: RATE_LIMITS.token },
];

/**
 * Better Auth endpoints nobody needs over HTTP; they answer 404.
 * - /verify-password: a password oracle behind a session; our pages confirm
 *   nothing with it (change-password checks the current password itself).
 * - /reset-password/:token: our reset emails link to our page, which posts
 *   the token; this GET only tells whether a token is live.
 * - /get-access-token, /refresh-token: hand the provider's access token to
 *   whoever holds a session; we ask providers who the user is, nothing more.
 * - /delete-user, /delete-user/callback: account deletion is not enabled in
 *   Better Auth's options; turning it on means a limit for its password check.
 * - /error: Better Auth's HTML error page, outside our page headers and
 *   showing any error_description; provider errors go to /login instead.
 */
export const DISABLED_AUTH_PATHS = [
  '/verify-password',
  '/reset-password/:token',
  '/get-access-token',
  '/refresh-token',
  '/delete-user',
  '/delete-user/callback',
  '/error',
] as const;
