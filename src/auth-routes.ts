import type { Hono, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import {
  getUserWithSessions,
  listUserSessions,
  requireAdmin,
  requireImpersonationOn,
  requireRecentSignIn,
  revokeUserSessionById,
  withoutSessionToken,
} from './admin/routes';
import { AppError, ErrorCode } from './errors';
import {
  adminUserBody,
  backupCodeBody,
  banUserBody,
  changeEmailBody,
  changePasswordBody,
  checkJsonBody,
  getUserQuery,
  idTokenNonceBody,
  linkSocialBody,
  listUsersQuery,
  passkeyAuthenticationBody,
  passkeyIdBody,
  passkeyRegisterQuery,
  passkeyRegistrationBody,
  passkeyRenameBody,
  passwordResetBody,
  passwordResetRequestBody,
  revokeSessionBody,
  revokeUserSessionBody,
  setRoleBody,
  signInBody,
  signUpBody,
  socialSignInBody,
  totpCodeBody,
  twoFactorPasswordBody,
  updateUserBody,
  validateJsonBody,
  validateQuery,
  verificationEmailBody,
} from './input';
import { callAuthEndpoint, forwardToAuth } from './middleware';
import { checkIdTokenSignIn, issueIdTokenNonce } from './oauth/id-token-sign-in';
import { socialSignInRedirect } from './oauth/routes';
import { passkeyRegistrationAnswer, requireRecentSignInForPasskey } from './passkeys';
import { authPath } from './paths';
import { RATE_LIMITS, type RateLimitRule, rateLimit } from './rate-limit';
import type { AppEnv } from './request-context';
import { listSessions, readSession, revokeSessionById } from './sessions';
import { twoFactorCodeAnswer } from './two-factor';

// Everything that happens to a request under /api/auth, in one table: the
// body or query schema it must pass (validated first: cheap, and it yields the
// account key for the limits), the limits it counts against, and the handler that
// answers (Better Auth's, unless ours is named). Paths are Better Auth's,
// relative to AUTH_BASE_PATH. Adding a limit is one field here.
//
// Every endpoint that checks a password or a one-time code must have an entry
// with a per-account limit, or be in DISABLED_AUTH_PATHS: test/takeover.test.ts
// checks that against Better Auth's own endpoint list.

type AppHandler = MiddlewareHandler<AppEnv>;

export interface AuthRoute {
  method: 'GET' | 'POST';
  path: string;
  body?: z.ZodType<Record<string, unknown>>;
  query?: z.ZodType<Record<string, unknown>>;
  limit?: RateLimitRule;
  /** Ours, ending the chain; Better Auth's handler when absent. */
  handlers?: AppHandler[];
}

/** Hands the request, its body already validated, to Better Auth. */
const betterAuth: AppHandler = (c) => forwardToAuth(c.var, c.req.raw);

/** A JWT for the session (Better Auth's jwt plugin), the hot path's direct call. */
const issueToken: AppHandler = (c) => callAuthEndpoint(c.var, c.req.raw, 'getToken');

/**
 * An endpoint of Better Auth's admin plugin: limited per client and per
 * session, for admins only (src/admin/routes.ts); `recentSignIn` for the
 * changes an old stolen cookie must not make.
 */
function adminRoute(
  method: AuthRoute['method'],
  path: string,
  options: Pick<AuthRoute, 'body' | 'query'> & { recentSignIn?: true; handler?: AppHandler } = {},
): AuthRoute {
  const { recentSignIn, handler, ...schemas } = options;
  return {
    method,
    path,
    ...schemas,
    limit: RATE_LIMITS.admin,
    handlers: [requireAdmin, ...(recentSignIn ? [requireRecentSignIn] : []), handler ?? betterAuth],
  };
}

export const AUTH_ROUTES: readonly AuthRoute[] = [
  { method: 'POST', path: '/sign-up/email', body: signUpBody, limit: RATE_LIMITS.signUp },
  { method: 'POST', path: '/sign-in/email', body: signInBody, limit: RATE_LIMITS.signIn },
  {
    method: 'POST',
    path: '/sign-in/social',
    body: socialSignInBody,
    limit: RATE_LIMITS.providerSignIn,
    handlers: [checkIdTokenSignIn, betterAuth],
  },
  { method: 'GET', path: '/sign-in/:provider', limit: RATE_LIMITS.providerSignIn, handlers: [socialSignInRedirect] },
  // Better Auth links an id_token here with no nonce and no account policy:
  // the same switch and single-use nonce as an id_token sign-in apply.
  {
    method: 'POST',
    path: '/link-social',
    body: linkSocialBody,
    limit: RATE_LIMITS.providerSignIn,
    handlers: [checkIdTokenSignIn, betterAuth],
  },
  {
    method: 'POST',
    path: '/id-token-nonce',
    body: idTokenNonceBody,
    limit: RATE_LIMITS.idTokenNonce,
    handlers: [issueIdTokenNonce],
  },
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
  { method: 'GET', path: '/token', limit: RATE_LIMITS.token, handlers: [issueToken] },
  { method: 'GET', path: '/get-session', handlers: [readSession] },
  { method: 'GET', path: '/session', handlers: [readSession] },
  { method: 'GET', path: '/list-sessions', handlers: [listSessions] },
  { method: 'POST', path: '/revoke-session', body: revokeSessionBody, handlers: [revokeSessionById] },

  // Two-factor (TOTP): the password-checking endpoints share the password
  // budget of change-password; codes have a budget of their own.
  { method: 'POST', path: '/two-factor/enable', body: twoFactorPasswordBody, limit: RATE_LIMITS.passwordCheck },
  { method: 'POST', path: '/two-factor/disable', body: twoFactorPasswordBody, limit: RATE_LIMITS.passwordCheck },
  { method: 'POST', path: '/two-factor/get-totp-uri', body: twoFactorPasswordBody, limit: RATE_LIMITS.passwordCheck },
  {
    method: 'POST',
    path: '/two-factor/generate-backup-codes',
    body: twoFactorPasswordBody,
    limit: RATE_LIMITS.passwordCheck,
  },
  {
    method: 'POST',
    path: '/two-factor/verify-totp',
    body: totpCodeBody,
    limit: RATE_LIMITS.twoFactorCode,
    handlers: [twoFactorCodeAnswer],
  },
  {
    method: 'POST',
    path: '/two-factor/verify-backup-code',
    body: backupCodeBody,
    limit: RATE_LIMITS.twoFactorCode,
    handlers: [twoFactorCodeAnswer],
  },

  // Passkeys.
  {
    method: 'GET',
    path: '/passkey/generate-register-options',
    query: passkeyRegisterQuery,
    limit: RATE_LIMITS.passkeyManage,
    handlers: [requireRecentSignInForPasskey, betterAuth],
  },
  {
    method: 'POST',
    path: '/passkey/verify-registration',
    body: passkeyRegistrationBody,
    limit: RATE_LIMITS.passkeyManage,
    handlers: [passkeyRegistrationAnswer],
  },
  { method: 'GET', path: '/passkey/generate-authenticate-options', limit: RATE_LIMITS.passkeyChallenge },
  {
    method: 'POST',
    path: '/passkey/verify-authentication',
    body: passkeyAuthenticationBody,
    limit: RATE_LIMITS.passkeySignIn,
  },
  { method: 'GET', path: '/passkey/list-user-passkeys', limit: RATE_LIMITS.passkeyManage },
  { method: 'POST', path: '/passkey/update-passkey', body: passkeyRenameBody, limit: RATE_LIMITS.passkeyManage },
  { method: 'POST', path: '/passkey/delete-passkey', body: passkeyIdBody, limit: RATE_LIMITS.passkeyManage },

  adminRoute('GET', '/admin/list-users', { query: listUsersQuery }),
  adminRoute('GET', '/admin/get-user', { query: getUserQuery, handler: getUserWithSessions }),
  adminRoute('POST', '/admin/list-user-sessions', { body: adminUserBody, handler: listUserSessions }),
  adminRoute('POST', '/admin/revoke-user-session', { body: revokeUserSessionBody, handler: revokeUserSessionById }),
  adminRoute('POST', '/admin/revoke-user-sessions', { body: adminUserBody }),
  adminRoute('POST', '/admin/ban-user', { body: banUserBody, recentSignIn: true }),
  adminRoute('POST', '/admin/unban-user', { body: adminUserBody, recentSignIn: true }),
  adminRoute('POST', '/admin/set-role', { body: setRoleBody, recentSignIn: true }),
  {
    method: 'POST',
    path: '/admin/impersonate-user',
    body: adminUserBody,
    limit: RATE_LIMITS.admin,
    handlers: [requireImpersonationOn, requireAdmin, requireRecentSignIn, withoutSessionToken],
  },
  // The impersonated session's own way back: its user is not an admin.
  { method: 'POST', path: '/admin/stop-impersonating', limit: RATE_LIMITS.admin, handlers: [withoutSessionToken] },
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
 * - /admin/create-user: accounts come from sign-up and sign-in; this one
 *   would also take a password and any role.
 * - /admin/update-user: sets any field (role, banned, email, emailVerified),
 *   around set-role and ban-user, their recent sign-in and their audit events.
 * - /admin/set-user-password: an admin who knows a user's password can sign
 *   in as them, unmarked; impersonation is the marked, audited way.
 * - /admin/remove-user: account deletion is not enabled (see /delete-user).
 * - /admin/has-permission: nothing of ours asks it; one role check is
 *   enough (src/admin/policy.ts).
 * - /two-factor/send-otp, /two-factor/verify-otp: codes by email or SMS are
 *   not configured; TOTP and backup codes are the second factor.
 */
export const DISABLED_AUTH_PATHS = [
  '/verify-password',
  '/reset-password/:token',
  '/get-access-token',
  '/refresh-token',
  '/delete-user',
  '/delete-user/callback',
  '/error',
  '/admin/create-user',
  '/admin/update-user',
  '/admin/set-user-password',
  '/admin/remove-user',
  '/admin/has-permission',
  '/two-factor/send-otp',
  '/two-factor/verify-otp',
] as const;

/** Mounts the table on the app, after the per-request auth middleware. */
export function mountAuthRoutes(app: Hono<AppEnv>): void {
  for (const path of DISABLED_AUTH_PATHS) {
    app.all(authPath(path), (c) => {
      throw new AppError(404, ErrorCode.NOT_FOUND, `No route for ${c.req.method} ${c.req.path}.`);
    });
  }
  for (const route of AUTH_ROUTES) {
    const chain: AppHandler[] = [
      ...(route.body ? [validateJsonBody(route.body)] : []),
      ...(route.query ? [validateQuery(route.query)] : []),
      ...(route.limit ? [rateLimit(route.limit)] : []),
      ...(route.handlers ?? [betterAuth]),
    ];
    app.on(route.method, authPath(route.path), ...(chain as [AppHandler]));
  }
  // Every other Better Auth endpoint: a body, if any, must be a bounded JSON object.
  app.all(authPath('/*'), checkJsonBody, betterAuth);
}
