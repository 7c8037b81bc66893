import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ROLES } from './admin/policy';
import { AUDIT_EVENT_TYPES } from './audit/events';
import { AppError, ErrorCode } from './errors';
import {
  DEFAULT_PAGE_SIZE,
  MAX_BAN_REASON_LENGTH,
  MAX_BAN_SECONDS,
  MAX_EMAIL_LENGTH,
  MAX_ID_LENGTH,
  MAX_LIST_OFFSET,
  MAX_NAME_LENGTH,
  MAX_PAGE_SIZE,
  MAX_PASSWORD_LENGTH,
  MAX_STRING_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_URL_LENGTH,
  MIN_PASSWORD_LENGTH,
} from './limits';
import { MAX_CODE_INPUT_LENGTH, MAX_PASSKEY_NAME_LENGTH, TOTP_DIGITS } from './mfa';
import type { AppEnv } from './request-context';

// The schemas of /api/auth bodies, checked before Better Auth sees them
// (limits in src/limits.ts), and the generic check for every other body.

/** Methods that carry a body and may change state. */
export const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// C0 controls (including NUL) and DEL have no place in a display name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// Right-to-left overrides and isolates make a name display as something else.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

const email = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'is required')
  .max(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`)
  .pipe(z.email({ error: 'must be a valid email address' }))
  .transform((value) => value.toLowerCase());

const callbackURL = z
  .string({ error: 'must be a string' })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .optional();

const rememberMe = z.boolean({ error: 'must be true or false' }).optional();

const name = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'is required')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
  .refine((value) => !BIDI_CONTROLS.test(value), 'must not contain bidirectional control characters');

const newPassword = z
  .string({ error: 'must be a string' })
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

const image = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .max(MAX_URL_LENGTH)
  .nullish();

export const signUpBody = z.object({ name, email, password: newPassword, image, callbackURL, rememberMe });

export const updateUserBody = z.object({
  name: name.optional(),
  image: image,
});

export const changePasswordBody = z.object({
  currentPassword: z.string({ error: 'must be a string' }).min(1, 'is required').max(MAX_PASSWORD_LENGTH),
  newPassword: newPassword,
  // A new password ends every other session unless the client asks to keep
  // them: whoever else held one may be why the password changes. The caller
  // gets a new session (cookie and token) in the answer.
  revokeOtherSessions: z.boolean({ error: 'must be true or false' }).default(true),
});

export const changeEmailBody = z.object({ newEmail: email, callbackURL });

export const passwordResetRequestBody = z.object({ email, redirectTo: callbackURL });

export const passwordResetBody = z.object({
  newPassword: newPassword,
  token: z.string({ error: 'must be a string' }).min(1, 'is required').max(MAX_TOKEN_LENGTH),
});

export const verificationEmailBody = z.object({ email, callbackURL });

export const signInBody = z.object({
  email,
  // No minimum here: a wrong password gets Better Auth's generic answer.
  password: z
    .string({ error: 'must be a string' })
    .min(1, 'is required')
    .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
  callbackURL,
  rememberMe,
});

/**
 * POST /api/auth/sign-in/social: the fields we know are bounded; Better Auth's
 * other options (scopes, loginHint, ...) pass to it after the generic checks.
 */
export const socialSignInBody = z.looseObject({
  provider: z.string({ error: 'must be a string' }).min(1, 'is required').max(64, 'must be at most 64 characters'),
  callbackURL,
  errorCallbackURL: callbackURL,
  newUserCallbackURL: callbackURL,
});

/**
 * POST /api/auth/link-social: the signed-in user adds a provider. With an
 * `idToken` it is checked like an id_token sign-in (src/oauth/id-token-sign-in.ts).
 */
export const linkSocialBody = socialSignInBody;

/** POST /api/auth/id-token-nonce: a nonce for one native-app sign-in with this provider. */
export const idTokenNonceBody = z.object({
  provider: z.string({ error: 'must be a string' }).min(1, 'is required').max(64, 'must be at most 64 characters'),
});

/** POST /api/auth/revoke-session: one session of the caller, by the id that list-sessions shows. */
export const revokeSessionBody = z.object({
  id: z.string({ error: 'must be a string' }).min(1, 'is required').max(MAX_TOKEN_LENGTH),
});

const id = z
  .string({ error: 'must be a string' })
  .min(1, 'is required')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

/** Admin endpoints that act on one user: unban, revoke its sessions, list them, impersonate. */
export const adminUserBody = z.object({ userId: id });

export const banUserBody = z.object({
  userId: id,
  banReason: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_BAN_REASON_LENGTH, `must be at most ${MAX_BAN_REASON_LENGTH} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .optional(),
  // Seconds from now; absent, the ban has no end.
  banExpiresIn: z
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(60, 'must be at least 60 seconds')
    .max(MAX_BAN_SECONDS, `must be at most ${MAX_BAN_SECONDS} seconds`)
    .optional(),
});

/** One role out of ours: Better Auth alone would store any string, or a list. */
export const setRoleBody = z.object({
  userId: id,
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
});

/** POST /api/auth/admin/revoke-user-session: by the id that admin reads show (Better Auth's takes the token). */
export const revokeUserSessionBody = z.object({ sessionId: id });

const pageSize = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
  .default(DEFAULT_PAGE_SIZE);

/**
 * GET /api/auth/admin/list-users: search and paging. Without a limit Better
 * Auth would return every user; the sort and filter fields are the ones an
 * admin needs, not any column.
 */
export const listUsersQuery = z.object({
  searchValue: z.string().max(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`).optional(),
  searchField: z.enum(['email', 'name']).optional(),
  searchOperator: z.enum(['contains', 'starts_with', 'ends_with']).optional(),
  limit: pageSize,
  offset: z.coerce.number({ error: 'must be a number' }).int().min(0).max(MAX_LIST_OFFSET).optional(),
  sortBy: z.enum(['createdAt', 'email', 'name']).optional(),
  sortDirection: z.enum(['asc', 'desc']).optional(),
  filterField: z.enum(['role']).optional(),
  filterValue: z.enum(ROLES).optional(),
});

/** GET /api/auth/admin/get-user?id= */
export const getUserQuery = z.object({ id });

/** An event id from a page's `nextCursor`: the next page has the events before it. */
const before = z.coerce
  .number({ error: 'must be an event id (a nextCursor)' })
  .int('must be an event id (a nextCursor)')
  .positive('must be an event id (a nextCursor)')
  .max(Number.MAX_SAFE_INTEGER)
  .optional();

/** GET /api/me/events */
export const myEventsQuery = z.object({ before, limit: pageSize });

/** GET /api/admin/events: anyone's events, by user and type. */
export const adminEventsQuery = z.object({
  userId: id.optional(),
  type: z.enum(AUDIT_EVENT_TYPES, { error: 'must be an event type (docs/operations.md)' }).optional(),
  before,
  limit: pageSize,
});

/**
 * The query of GET /api/auth/sign-in/:provider. Where these URLs may point
 * (relative, or an origin in TRUSTED_ORIGINS) is Better Auth's check.
 */
export const socialSignInQuery = z.object({
  callbackURL,
  errorCallbackURL: callbackURL,
  newUserCallbackURL: callbackURL,
});

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join('.');
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${field} is required`;
      return field ? `${field} ${issue.message}` : issue.message;
    })
    .join('; ');
}

async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new AppError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Send the body as application/json.');
  }
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    throw new AppError(400, ErrorCode.INVALID_JSON, 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError(400, ErrorCode.VALIDATION_ERROR, 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/**
 * Validates the query string, then hands Better Auth a URL holding only the
 * validated values (defaults filled in). They are also `c.var.query`.
 */
export function validateQuery(schema: z.ZodType<Record<string, unknown>>): MiddlewareHandler<AppEnv> {
  return async function queryValidator(c, next) {
    const parsed = schema.safeParse(c.req.query());
    if (!parsed.success) {
      throw new AppError(400, ErrorCode.VALIDATION_ERROR, describeIssues(parsed.error));
    }
    c.set('query', parsed.data);
    const url = new URL(c.req.url);
    url.search = '';
    for (const [name, value] of Object.entries(parsed.data)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    c.req.raw = new Request(url, c.req.raw);
    await next();
  };
}

function replaceBody(c: Context<AppEnv>, body: unknown): void {
  const headers = new Headers(c.req.raw.headers);
  headers.delete('content-length');
  c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers, body: JSON.stringify(body) });
}

/**
 * Parses and validates a JSON body, then hands Better Auth a rebuilt request
 * holding only the validated fields, so unknown or protected fields
 * (`emailVerified`, `id`, `role`, ...) never reach it. The validated body is
 * also `c.var.body`, for the rate limiter's per-account key.
 */
export function validateJsonBody(schema: z.ZodType<Record<string, unknown>>): MiddlewareHandler<AppEnv> {
  return async function jsonBodyValidator(c, next) {
    const parsed = schema.safeParse(await readJsonObject(c.req.raw));
    if (!parsed.success) {
      throw new AppError(400, ErrorCode.VALIDATION_ERROR, describeIssues(parsed.error));
    }
    // Fields a loose schema passes on to Better Auth keep the generic bounds.
    const problem = findBadString(parsed.data, '', 0);
    if (problem) throw new AppError(400, ErrorCode.VALIDATION_ERROR, problem);
    c.set('body', parsed.data);
    replaceBody(c, parsed.data);
    await next();
  };
}

function findBadString(value: unknown, path: string, depth: number): string | undefined {
  if (depth > 4) return `${path || 'body'} is nested too deeply`;
  if (typeof value === 'string') {
    if (value.length > MAX_STRING_LENGTH) return `${path} must be at most ${MAX_STRING_LENGTH} characters`;
    if (value.includes('\u0000')) return `${path} must not contain NUL characters`;
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const problem = findBadString(item, path ? `${path}.${key}` : key, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * For /api/auth endpoints without a schema of their own: a body, if any, must
 * be a JSON object of bounded depth whose strings are bounded and NUL-free.
 */
export const checkJsonBody: MiddlewareHandler<AppEnv> = async function checkJsonBody(c, next) {
  if (!STATE_CHANGING_METHODS.has(c.req.method)) return next();
  const text = await c.req.raw.clone().text();
  if (text.trim() === '') return next();
  const body = await readJsonObject(c.req.raw);
  const problem = findBadString(body, '', 0);
  if (problem) throw new AppError(400, ErrorCode.VALIDATION_ERROR, problem);
  replaceBody(c, body);
  await next();
};

// Two-factor and passkeys (src/mfa.ts). Better Auth's own options that we do
// not offer are left out of these schemas, so they never reach it: `method:
// 'otp'` (email codes), `issuer` (ours is BETTER_AUTH_URL's host),
// `trustDevice` (no device skips the code step) and `disableSession`.

const currentPassword = z
  .string({ error: 'must be a string' })
  .min(1, 'is required')
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

/** POST /two-factor/enable, /disable, /get-totp-uri, /generate-backup-codes: the account's password. */
export const twoFactorPasswordBody = z.object({ password: currentPassword });

/** POST /two-factor/verify-totp: six digits (spaces, as authenticator apps show them, are dropped). */
export const totpCodeBody = z.object({
  code: z
    .string({ error: 'must be a string' })
    .max(MAX_CODE_INPUT_LENGTH, `must be a code of ${TOTP_DIGITS} digits`)
    .transform((value) => value.replace(/[\s-]/g, ''))
    .pipe(z.string().regex(new RegExp(`^\\d{${TOTP_DIGITS}}$`), `must be a code of ${TOTP_DIGITS} digits`)),
});

/** POST /two-factor/verify-backup-code: one of the codes shown when two-factor was turned on. */
export const backupCodeBody = z.object({
  code: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'is required')
    .max(MAX_CODE_INPUT_LENGTH, 'must be a backup code (like abcde-12345)'),
});

const passkeyName = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'is required')
  .max(MAX_PASSKEY_NAME_LENGTH, `must be at most ${MAX_PASSKEY_NAME_LENGTH} characters`)
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
  .refine((value) => !BIDI_CONTROLS.test(value), 'must not contain bidirectional control characters');

/** A WebAuthn response as the browser's JSON form of a PublicKeyCredential; the library checks the rest. */
const webAuthnResponse = z.looseObject({
  id: z.string({ error: 'must be a string' }).min(1, 'is required').max(MAX_TOKEN_LENGTH),
  rawId: z.string({ error: 'must be a string' }).max(MAX_TOKEN_LENGTH).optional(),
  type: z.literal('public-key', { error: 'must be "public-key"' }),
  response: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
});

/** GET /passkey/generate-register-options */
export const passkeyRegisterQuery = z.object({
  name: passkeyName.optional(),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});

/** POST /passkey/verify-registration (no `createSession`: the caller is signed in already). */
export const passkeyRegistrationBody = z.object({ response: webAuthnResponse, name: passkeyName.optional() });

/** POST /passkey/verify-authentication */
export const passkeyAuthenticationBody = z.object({ response: webAuthnResponse });

/** POST /passkey/update-passkey */
export const passkeyRenameBody = z.object({ id, name: passkeyName });

/** POST /passkey/delete-passkey */
export const passkeyIdBody = z.object({ id });
