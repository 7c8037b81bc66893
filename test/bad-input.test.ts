import { beforeAll, describe, expect, it } from 'vitest';
import { callWorker, databaseFingerprint, postJson, signUp, type TestUser, uniqueEmail } from './helpers';

// Bad input on every public endpoint: a 4xx JSON error with the right code and
// a requestId, never a 5xx, and nothing written to the database.

interface BadRequest {
  name: string;
  path: string;
  method?: string;
  /** The raw body; `EMAIL` is replaced by a fresh address. */
  body?: string;
  contentType?: string;
  /** Send the signed-in user's session cookie. */
  signedIn?: boolean;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const json = (value: unknown) => JSON.stringify(value);
const signUpBody = { email: 'EMAIL', password: 'a good long password', name: 'Grace Hopper' };
const withField = (field: string, value: unknown) => json({ ...signUpBody, [field]: value });
const deep = (levels: number): unknown => (levels === 0 ? 'x' : { a: deep(levels - 1) });

const V = { status: 400, code: 'VALIDATION_ERROR' };
const MALFORMED = { status: 400, code: 'INVALID_JSON' };

const SIGN_UP = '/api/auth/sign-up/email';
const SIGN_IN = '/api/auth/sign-in/email';

const cases: BadRequest[] = [
  // sign-up
  { name: 'malformed JSON', path: SIGN_UP, body: '{"email": ', ...MALFORMED },
  { name: 'an empty body', path: SIGN_UP, body: '', ...MALFORMED },
  { name: 'a JSON array', path: SIGN_UP, body: json([signUpBody]), ...V },
  { name: 'a JSON string', path: SIGN_UP, body: json('hello'), ...V },
  { name: 'JSON null', path: SIGN_UP, body: 'null', ...V },
  {
    name: 'form encoding',
    path: SIGN_UP,
    body: 'email=a@b.c',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'a missing email', path: SIGN_UP, body: withField('email', undefined), ...V },
  { name: 'a missing password', path: SIGN_UP, body: withField('password', undefined), ...V },
  { name: 'a missing name', path: SIGN_UP, body: withField('name', undefined), ...V },
  { name: 'an email that is a number', path: SIGN_UP, body: withField('email', 42), ...V },
  { name: 'an email that is an operator object', path: SIGN_UP, body: withField('email', { $ne: null }), ...V },
  { name: 'an email that is an array', path: SIGN_UP, body: withField('email', ['EMAIL']), ...V },
  { name: 'an email without @', path: SIGN_UP, body: withField('email', 'not-an-email'), ...V },
  {
    name: 'an email over 254 characters',
    path: SIGN_UP,
    body: withField('email', `${'a'.repeat(250)}@example.com`),
    ...V,
  },
  { name: 'a 5,000-character email', path: SIGN_UP, body: withField('email', `${'b'.repeat(5000)}@example.com`), ...V },
  { name: 'SQL in the email', path: SIGN_UP, body: withField('email', `x@example.com'; DROP TABLE "user";--`), ...V },
  { name: 'a Cyrillic look-alike in the email', path: SIGN_UP, body: withField('email', 'аdmin@example.com'), ...V },
  { name: 'a space inside the email', path: SIGN_UP, body: withField('email', 'ad min@example.com'), ...V },
  { name: 'a password under 8 characters', path: SIGN_UP, body: withField('password', 'short'), ...V },
  { name: 'a password over 128 characters', path: SIGN_UP, body: withField('password', 'p'.repeat(129)), ...V },
  { name: 'a password that is a number', path: SIGN_UP, body: withField('password', 12345678), ...V },
  { name: 'a blank name', path: SIGN_UP, body: withField('name', '   '), ...V },
  { name: 'a name over 100 characters', path: SIGN_UP, body: withField('name', 'n'.repeat(101)), ...V },
  {
    name: 'a 200 KB name',
    path: SIGN_UP,
    body: withField('name', 'n'.repeat(200 * 1024)),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'a NUL byte in the name', path: SIGN_UP, body: withField('name', 'Grace\u0000Hopper'), ...V },
  { name: 'a right-to-left override in the name', path: SIGN_UP, body: withField('name', 'Grace\u202eHopper'), ...V },
  { name: 'a name that is an object', path: SIGN_UP, body: withField('name', { first: 'Grace' }), ...V },
  { name: 'an image that is not https', path: SIGN_UP, body: withField('image', 'javascript:alert(1)'), ...V },
  { name: 'rememberMe that is a string', path: SIGN_UP, body: withField('rememberMe', 'yes'), ...V },
  {
    name: 'a callbackURL over 2048 characters',
    path: SIGN_UP,
    body: withField('callbackURL', `/${'c'.repeat(2048)}`),
    ...V,
  },

  // sign-in
  { name: 'malformed JSON', path: SIGN_IN, body: '{', ...MALFORMED },
  { name: 'a missing password', path: SIGN_IN, body: json({ email: 'EMAIL' }), ...V },
  { name: 'an empty password', path: SIGN_IN, body: json({ email: 'EMAIL', password: '' }), ...V },
  {
    name: 'a password that is an operator object',
    path: SIGN_IN,
    body: json({ email: 'EMAIL', password: { $gt: '' } }),
    ...V,
  },
  { name: 'an email that is an array', path: SIGN_IN, body: json({ email: ['EMAIL'], password: 'whatever1' }), ...V },
  {
    name: 'a password over 128 characters',
    path: SIGN_IN,
    body: json({ email: 'EMAIL', password: 'p'.repeat(129) }),
    ...V,
  },
  {
    name: 'text/plain',
    path: SIGN_IN,
    body: json({ email: 'EMAIL', password: 'x' }),
    contentType: 'text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },

  // update-user (signed in)
  { name: 'a name that is a number', path: '/api/auth/update-user', body: json({ name: 42 }), signedIn: true, ...V },
  {
    name: 'a 5,000-character name',
    path: '/api/auth/update-user',
    body: json({ name: 'n'.repeat(5000) }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a NUL byte in the name',
    path: '/api/auth/update-user',
    body: json({ name: 'a\u0000b' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a bidi isolate in the name',
    path: '/api/auth/update-user',
    body: json({ name: 'a\u2066b' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'an image that is not a URL',
    path: '/api/auth/update-user',
    body: json({ image: 'not a url' }),
    signedIn: true,
    ...V,
  },
  { name: 'malformed JSON', path: '/api/auth/update-user', body: '{"name"', signedIn: true, ...MALFORMED },
  { name: 'a JSON array', path: '/api/auth/update-user', body: json([{ name: 'x' }]), signedIn: true, ...V },

  // change-password (signed in)
  {
    name: 'a short new password',
    path: '/api/auth/change-password',
    body: json({ currentPassword: 'correct horse battery staple', newPassword: 'short' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a new password that is a number',
    path: '/api/auth/change-password',
    body: json({ currentPassword: 'x', newPassword: 123456789 }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a missing current password',
    path: '/api/auth/change-password',
    body: json({ newPassword: 'a brand new password' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a new password over 128 characters',
    path: '/api/auth/change-password',
    body: json({ currentPassword: 'x', newPassword: 'p'.repeat(129) }),
    signedIn: true,
    ...V,
  },

  // change-email (signed in)
  {
    name: 'an invalid new email',
    path: '/api/auth/change-email',
    body: json({ newEmail: 'nope' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a new email that is an object',
    path: '/api/auth/change-email',
    body: json({ newEmail: { $ne: '' } }),
    signedIn: true,
    ...V,
  },

  // password reset
  { name: 'an invalid email', path: '/api/auth/request-password-reset', body: json({ email: 'nope' }), ...V },
  { name: 'a missing email', path: '/api/auth/request-password-reset', body: json({}), ...V },
  {
    name: 'a redirectTo over 2048 characters',
    path: '/api/auth/request-password-reset',
    body: json({ email: 'EMAIL', redirectTo: `/${'r'.repeat(3000)}` }),
    ...V,
  },
  { name: 'malformed JSON', path: '/api/auth/request-password-reset', body: 'email=x', ...MALFORMED },
  {
    name: 'a missing token',
    path: '/api/auth/reset-password',
    body: json({ newPassword: 'a brand new password' }),
    ...V,
  },
  {
    name: 'a token that is an object',
    path: '/api/auth/reset-password',
    body: json({ token: { $ne: '' }, newPassword: 'a brand new password' }),
    ...V,
  },
  {
    name: 'a short new password',
    path: '/api/auth/reset-password',
    body: json({ token: 'abc', newPassword: 'short' }),
    ...V,
  },
  {
    name: 'a 600-character token',
    path: '/api/auth/reset-password',
    body: json({ token: 't'.repeat(600), newPassword: 'a brand new password' }),
    ...V,
  },
  { name: 'an invalid email', path: '/api/auth/send-verification-email', body: json({ email: 42 }), ...V },

  // every other endpoint: bounded JSON objects only
  { name: 'malformed JSON', path: '/api/auth/sign-out', body: '{', signedIn: true, ...MALFORMED },
  { name: 'a JSON array', path: '/api/auth/revoke-session', body: json(['token']), signedIn: true, ...V },
  {
    name: 'a NUL byte in a field',
    path: '/api/auth/revoke-session',
    body: json({ token: 'a\u0000b' }),
    signedIn: true,
    ...V,
  },
  {
    name: 'a 3,000-character field',
    path: '/api/auth/revoke-session',
    body: json({ token: 't'.repeat(3000) }),
    signedIn: true,
    ...V,
  },
  {
    name: 'nesting deeper than 4 levels',
    path: '/api/auth/revoke-sessions',
    body: json(deep(6)),
    signedIn: true,
    ...V,
  },
  {
    name: 'text/plain',
    path: '/api/auth/revoke-other-sessions',
    body: '{}',
    contentType: 'text/plain',
    signedIn: true,
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body over 64 KiB',
    path: '/api/auth/delete-user',
    body: json({ x: 'x'.repeat(70 * 1024) }),
    signedIn: true,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },

  // credentials that are not
  {
    name: 'a made-up bearer token',
    path: '/api/auth/token',
    method: 'GET',
    headers: { authorization: 'Bearer not-a-session' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'a forged session cookie',
    path: '/api/auth/token',
    method: 'GET',
    headers: { cookie: '__Secure-better-auth.session_token=forged.signature' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'a made-up bearer token',
    path: '/api/me',
    method: 'GET',
    headers: { authorization: 'Bearer x' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'a session-only endpoint without a session',
    path: '/api/auth/update-user',
    body: json({ name: 'Nobody' }),
    status: 401,
    code: 'UNAUTHORIZED',
  },

  // routes that do not exist
  {
    name: 'an unknown auth endpoint',
    path: '/api/auth/definitely-not-here',
    method: 'GET',
    status: 404,
    code: 'NOT_FOUND',
  },
  { name: 'an unknown route', path: '/api/nothing', method: 'GET', status: 404, code: 'NOT_FOUND' },
];

let user: TestUser;
beforeAll(async () => {
  user = await signUp();
});

describe('bad input gets a 4xx JSON error and writes nothing', () => {
  it('covers at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('$path: $name → $status $code', async (badRequest) => {
    const before = await databaseFingerprint();
    const method = badRequest.method ?? 'POST';
    const headers: Record<string, string> = { ...badRequest.headers };
    if (method !== 'GET') headers['content-type'] = badRequest.contentType ?? 'application/json';
    if (badRequest.signedIn) headers.cookie = user.cookie;
    const body = method === 'GET' ? undefined : (badRequest.body ?? '').replaceAll('EMAIL', uniqueEmail('bad'));

    const response = await callWorker(badRequest.path, { method, headers, body });

    expect(response.status).toBe(badRequest.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({
      code: badRequest.code,
      message: expect.any(String),
      requestId: expect.any(String),
    });
    expect(await databaseFingerprint()).toBe(before);
  });
});

describe('fields the client may not set', () => {
  it('ignores emailVerified, id, role and banned at sign-up', async () => {
    const response = await postJson(SIGN_UP, {
      email: uniqueEmail('sneaky'),
      password: 'a good long password',
      name: 'Sneaky',
      emailVerified: true,
      id: 'chosen-by-client',
      role: 'admin',
      banned: true,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: Record<string, unknown> };
    expect(body.user.emailVerified).toBe(false);
    expect(body.user.id).not.toBe('chosen-by-client');
    expect(body.user.role).toBe('user');
    expect(body.user.banned).toBe(false);
  });

  it('ignores emailVerified in update-user', async () => {
    const response = await postJson(
      '/api/auth/update-user',
      { name: 'Renamed', emailVerified: true },
      { cookie: user.cookie },
    );
    expect(response.status).toBe(200);
    const me = await (await callWorker('/api/me', { headers: { cookie: user.cookie } })).json();
    expect(me).toMatchObject({ user: { name: 'Renamed', emailVerified: false } });
  });

  it('accepts an email of exactly 254 characters and refuses 255', async () => {
    const domain = `@${crypto.randomUUID()}.example.com`;
    const at254 = `${'a'.repeat(254 - domain.length)}${domain}`;
    const at255 = `b${at254}`;
    const body = (email: string) => ({ email, password: 'a good long password', name: 'Boundary' });
    expect((await postJson(SIGN_UP, body(at254))).status).toBe(200);
    const refused = await postJson(SIGN_UP, body(at255));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('treats emails case-insensitively: one account, sign-in with any case', async () => {
    const created = await signUp();
    const again = await postJson(SIGN_UP, {
      email: created.email.toUpperCase(),
      password: 'another password',
      name: 'Twin',
    });
    expect(again.status).toBe(422);
    const response = await postJson(SIGN_IN, { email: created.email.toUpperCase(), password: created.password });
    expect(response.status).toBe(200);
  });
});
