import { describe, expect, it } from 'vitest';
import { callWorker, countUsersWithEmail, signUp, uniqueEmail } from './helpers';

const SIGN_UP = '/api/auth/sign-up/email';
const SIGN_IN = '/api/auth/sign-in/email';

interface BadInput {
  name: string;
  /** The raw request body, or a function of the unique email for this case. */
  body: (email: string) => string;
  contentType?: string;
  status: number;
  code: string;
}

const json = (value: unknown) => JSON.stringify(value);
const valid = (email: string) => ({ email, password: 'a good long password', name: 'Grace Hopper' });

const signUpCases: BadInput[] = [
  { name: 'malformed JSON', body: () => '{"email": ', status: 400, code: 'INVALID_JSON' },
  { name: 'an empty body', body: () => '', status: 400, code: 'INVALID_JSON' },
  { name: 'a JSON array', body: (email) => json([valid(email)]), status: 400, code: 'VALIDATION_ERROR' },
  { name: 'a JSON string', body: () => json('hello'), status: 400, code: 'VALIDATION_ERROR' },
  { name: 'JSON null', body: () => 'null', status: 400, code: 'VALIDATION_ERROR' },
  {
    name: 'form encoding',
    body: (email) => `email=${email}&password=x`,
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a missing email',
    body: (email) => json({ ...valid(email), email: undefined }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a missing password',
    body: (email) => json({ ...valid(email), password: undefined }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a missing name',
    body: (email) => json({ ...valid(email), name: undefined }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an email that is a number',
    body: (email) => json({ ...valid(email), email: 42 }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an email that is an object',
    body: (email) => json({ ...valid(email), email: { $ne: null } }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an email that is an array',
    body: (email) => json({ ...valid(email), email: [email] }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an email without @',
    body: (email) => json({ ...valid(email), email: email.replace('@', '') }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an email over 254 characters',
    body: (email) => json({ ...valid(email), email: `${'a'.repeat(250)}${email}` }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a 5,000-character email',
    body: (email) => json({ ...valid(email), email: `${'b'.repeat(5000)}${email}` }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'SQL in the email',
    body: (email) => json({ ...valid(email), email: `${email}'; DROP TABLE "user";--` }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a password under 8 characters',
    body: (email) => json({ ...valid(email), password: 'short' }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a password over 128 characters',
    body: (email) => json({ ...valid(email), password: 'p'.repeat(129) }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a password that is a number',
    body: (email) => json({ ...valid(email), password: 12345678 }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an empty name',
    body: (email) => json({ ...valid(email), name: '   ' }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a name over 100 characters',
    body: (email) => json({ ...valid(email), name: 'n'.repeat(101) }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a NUL byte in the name',
    body: (email) => json({ ...valid(email), name: 'Grace\u0000Hopper' }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a name that is an object',
    body: (email) => json({ ...valid(email), name: { first: 'Grace' } }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'an image that is not https',
    body: (email) => json({ ...valid(email), image: 'javascript:alert(1)' }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'rememberMe that is a string',
    body: (email) => json({ ...valid(email), rememberMe: 'yes' }),
    status: 400,
    code: 'VALIDATION_ERROR',
  },
  {
    name: 'a body over 64 KiB',
    body: (email) => json({ ...valid(email), name: 'x'.repeat(70 * 1024) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
];

async function post(path: string, body: string, contentType = 'application/json') {
  return callWorker(path, { method: 'POST', headers: { 'content-type': contentType }, body });
}

describe('sign-up refuses bad input with a 4xx JSON error and writes nothing', () => {
  it.each(signUpCases)('$name → $status $code', async ({ body, contentType, status, code }) => {
    const email = uniqueEmail('bad');
    const response = await post(SIGN_UP, body(email), contentType);
    expect(response.status).toBe(status);
    const error = await response.json();
    expect(error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
    expect(await countUsersWithEmail(email)).toBe(0);
  });
});

describe('sign-in refuses bad input with a 4xx JSON error', () => {
  const signInCases: BadInput[] = [
    { name: 'malformed JSON', body: () => '{', status: 400, code: 'INVALID_JSON' },
    { name: 'a missing password', body: (email) => json({ email }), status: 400, code: 'VALIDATION_ERROR' },
    {
      name: 'an empty password',
      body: (email) => json({ email, password: '' }),
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a password that is an object',
      body: (email) => json({ email, password: { $gt: '' } }),
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'an email that is an array',
      body: (email) => json({ email: [email], password: 'whatever1' }),
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a password over 128 characters',
      body: (email) => json({ email, password: 'p'.repeat(129) }),
      status: 400,
      code: 'VALIDATION_ERROR',
    },
  ];
  it.each(signInCases)('$name → $status $code', async ({ body, status, code }) => {
    const response = await post(SIGN_IN, body(uniqueEmail('bad')));
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ code });
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe('fields the client may not set', () => {
  it('ignores emailVerified and id at sign-up', async () => {
    const email = uniqueEmail('sneaky');
    const response = await post(
      SIGN_UP,
      json({ ...valid(email), emailVerified: true, id: 'chosen-by-client', role: 'admin' }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: { id: string; emailVerified: boolean } };
    expect(body.user.emailVerified).toBe(false);
    expect(body.user.id).not.toBe('chosen-by-client');
  });

  it('stores emails in lower case and signs in with any case', async () => {
    const created = await signUp();
    const response = await post(SIGN_IN, json({ email: created.email.toUpperCase(), password: created.password }));
    expect(response.status).toBe(200);
  });
});
