import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { AppError, ErrorCode } from './errors';
import {
  MAX_EMAIL_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PASSWORD_LENGTH,
  MAX_STRING_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_URL_LENGTH,
  MIN_PASSWORD_LENGTH,
} from './limits';
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
