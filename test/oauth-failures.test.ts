import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROVIDER_CALL_TIMEOUT_MS } from '../src/oauth/provider-calls';
import type { FakeProviders, FakeUser } from './fakes/oauth-providers';
import { callWorker, type EnvOverrides, postJson, signUp, TEST_AUTH_URL } from './helpers';
import {
  APP_ORIGIN,
  arriveAt,
  installAppProviders,
  providerUser,
  redirectOf,
  sessionCookieFrom,
  startSignIn,
  storedIdentity,
} from './oauth-flow';

let providers: FakeProviders;
let env: EnvOverrides;

beforeEach(async () => {
  ({ providers: providers, env: env } = await installAppProviders());
});
afterEach(() => {
  vi.useRealTimers();
  providers.restore();
});

const APP_ERROR_PAGE = `${APP_ORIGIN}/sign-in-failed`;
/** Better Auth's own error page, used when the state (and so errorCallbackURL) is unknown. */
const DEFAULT_ERROR_PAGE = `${TEST_AUTH_URL}/login`;

const newUser = (overrides: Partial<FakeUser> = {}) => providerUser(overrides, 'oauth-fail', 'Dorothy Vaughan');

function withParam(url: string, name: string, value: string | null): string {
  const changed = new URL(url);
  if (value === null) changed.searchParams.delete(name);
  else changed.searchParams.set(name, value);
  return changed.toString();
}

describe('providers that are not configured', () => {
  it.each([
    { path: '/api/auth/sign-in/github', overrides: { GITHUB_CLIENT_ID: undefined, GITHUB_CLIENT_SECRET: undefined } },
    { path: '/api/auth/sign-in/discord', overrides: { DISCORD_CLIENT_ID: '', DISCORD_CLIENT_SECRET: '' } },
    { path: '/api/auth/sign-in/twitter', overrides: {} },
    { path: '/api/auth/sign-in/email', overrides: {} },
    { path: '/api/auth/sign-in/social', overrides: {} },
  ])('GET $path → 404 PROVIDER_NOT_CONFIGURED', async ({ path, overrides }) => {
    const response = await callWorker(path, {}, { ...env, ...overrides });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { code: string; message: string; requestId: string };
    expect(body).toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED', requestId: expect.any(String) });
    expect(body.message).not.toContain(providers.google.clientSecret);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('says so when no provider is configured at all', async () => {
    const response = await callWorker('/api/auth/sign-in/google');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      code: 'PROVIDER_NOT_CONFIGURED',
      message: expect.stringContaining('No sign-in provider is configured'),
    });
  });

  it("POST /api/auth/sign-in/social answers Better Auth's 404 PROVIDER_NOT_FOUND", async () => {
    const response = await postJson(
      '/api/auth/sign-in/social',
      { provider: 'github', callbackURL: '/' },
      {},
      { ...env, GITHUB_CLIENT_ID: undefined, GITHUB_CLIENT_SECRET: undefined },
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
  });

  it('keeps POST /api/auth/sign-in/email working next to the provider routes', async () => {
    const created = await signUp(env);
    const response = await postJson(
      '/api/auth/sign-in/email',
      { email: created.email, password: created.password },
      {},
      env,
    );
    expect(response.status).toBe(200);
    expect(sessionCookieFrom(response)).toBeDefined();
  });
});

describe('where a sign-in may send the browser afterwards', () => {
  const untrusted = [
    'https://evil.example/steal',
    '//evil.example/steal',
    'https://app.test.evil.example/',
    'http://app.test/',
    'javascript:alert(1)',
  ];
  const fields = [
    { field: 'callbackURL', code: 'INVALID_CALLBACK_URL' },
    { field: 'errorCallbackURL', code: 'INVALID_ERROR_CALLBACK_URL' },
    { field: 'newUserCallbackURL', code: 'INVALID_NEW_USER_CALLBACK_URL' },
  ];
  const cases = fields.flatMap(({ field, code }) => untrusted.map((value) => ({ field, value, code })));

  it.each(cases)('GET refuses $field=$value with 403 $code', async ({ field, value, code }) => {
    const { response } = await startSignIn('google', { [field]: value }, env);
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toMatchObject({ code });
  });

  it.each(cases)('POST /sign-in/social refuses $field=$value with 403 $code', async ({ field, value, code }) => {
    const response = await postJson('/api/auth/sign-in/social', { provider: 'google', [field]: value }, {}, env);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code });
  });

  it.each(['/dashboard', `${APP_ORIGIN}/dashboard`, TEST_AUTH_URL])('accepts callbackURL=%s', async (value) => {
    const { response, authorizationUrl } = await startSignIn('google', { callbackURL: value }, env);
    expect(response.status).toBe(302);
    expect(authorizationUrl).toMatch(/^https:\/\/accounts\.google\.com\//);
  });

  it('refuses a callbackURL over 2048 characters with 400 VALIDATION_ERROR', async () => {
    const { response } = await startSignIn('google', { callbackURL: `${APP_ORIGIN}/${'a'.repeat(2048)}` }, env);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('callbackURL'),
    });
  });
});

interface CallbackFailure {
  name: string;
  provider: 'google' | 'github';
  /** Breaks the flow: returns the URL the browser arrives at and the cookie it carries. */
  arrange: (flow: { authorizationUrl: string; cookie: string; person: FakeUser }) => { url: string; cookie: string };
  errorPage: string;
  error: string;
}

const callbackFailures: CallbackFailure[] = [
  {
    name: 'the user cancels at Google (error=access_denied)',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie }) => ({ url: providers.google.deny(authorizationUrl), cookie }),
    errorPage: APP_ERROR_PAGE,
    error: 'access_denied',
  },
  {
    name: 'the callback has no state',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: withParam(providers.google.approve(authorizationUrl, person), 'state', null),
      cookie,
    }),
    errorPage: DEFAULT_ERROR_PAGE,
    error: 'state_not_found',
  },
  {
    name: 'the state is forged',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: withParam(providers.google.approve(authorizationUrl, person), 'state', 'A'.repeat(32)),
      cookie,
    }),
    errorPage: DEFAULT_ERROR_PAGE,
    error: 'state_mismatch',
  },
  {
    name: 'the state is real but the browser is not the one that started (no state cookie)',
    provider: 'google',
    arrange: ({ authorizationUrl, person }) => ({
      url: providers.google.approve(authorizationUrl, person),
      cookie: '',
    }),
    errorPage: APP_ERROR_PAGE,
    error: 'state_mismatch',
  },
  {
    name: 'Google refuses the code (400 invalid_grant)',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: withParam(providers.google.approve(authorizationUrl, person), 'code', 'not-a-code-google-issued'),
      cookie,
    }),
    errorPage: APP_ERROR_PAGE,
    error: 'invalid_code',
  },
  ...[500, 503].map((status) => ({
    name: `Google's token endpoint answers ${status}`,
    provider: 'google' as const,
    arrange: ({ authorizationUrl, cookie, person }: { authorizationUrl: string; cookie: string; person: FakeUser }) => {
      providers.google.failWith('token', { status });
      return { url: providers.google.approve(authorizationUrl, person), cookie };
    },
    errorPage: APP_ERROR_PAGE,
    error: 'invalid_code',
  })),
  {
    name: "Google's signing keys cannot be fetched (503)",
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => {
      providers.google.failWith('certs', { status: 503 });
      return { url: providers.google.approve(authorizationUrl, person), cookie };
    },
    errorPage: APP_ERROR_PAGE,
    error: 'unable_to_get_user_info',
  },
  {
    name: 'the id_token is signed by a key Google does not publish',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: providers.google.approve(authorizationUrl, person, { signWithUnpublishedKey: true }),
      cookie,
    }),
    errorPage: APP_ERROR_PAGE,
    error: 'unable_to_get_user_info',
  },
  {
    name: 'the id_token was issued to another client',
    provider: 'google',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: providers.google.approve(authorizationUrl, person, { audience: 'someone-else.apps.googleusercontent.com' }),
      cookie,
    }),
    errorPage: APP_ERROR_PAGE,
    error: 'unable_to_get_user_info',
  },
  {
    name: 'GitHub refuses the code (200 bad_verification_code)',
    provider: 'github',
    arrange: ({ authorizationUrl, cookie, person }) => ({
      url: withParam(providers.github.approve(authorizationUrl, person), 'code', 'not-a-code-github-issued'),
      cookie,
    }),
    errorPage: APP_ERROR_PAGE,
    error: 'invalid_code',
  },
  {
    name: "GitHub's token endpoint answers 502",
    provider: 'github',
    arrange: ({ authorizationUrl, cookie, person }) => {
      providers.github.failWith('token', { status: 502, body: { message: 'Bad Gateway' } });
      return { url: providers.github.approve(authorizationUrl, person), cookie };
    },
    errorPage: APP_ERROR_PAGE,
    error: 'invalid_code',
  },
  {
    name: "GitHub's user API answers 500",
    provider: 'github',
    arrange: ({ authorizationUrl, cookie, person }) => {
      providers.github.failWith('user', { status: 500, body: { message: 'Server Error' } });
      return { url: providers.github.approve(authorizationUrl, person), cookie };
    },
    errorPage: APP_ERROR_PAGE,
    error: 'unable_to_get_user_info',
  },
  {
    name: "GitHub's email list answers 500 (the profile has no public email)",
    provider: 'github',
    arrange: ({ authorizationUrl, cookie, person }) => {
      providers.github.failWith('emails', { status: 500, body: { message: 'Server Error' } });
      return { url: providers.github.approve(authorizationUrl, person), cookie };
    },
    errorPage: APP_ERROR_PAGE,
    error: 'email_not_found',
  },
];

describe('callback failures: an error redirect, never a 500, never a session', () => {
  it.each(callbackFailures)('$name → ?error=$error', async ({ provider, arrange, errorPage, error }) => {
    const person = newUser();
    const start = await startSignIn(
      provider,
      { callbackURL: `${APP_ORIGIN}/home`, errorCallbackURL: APP_ERROR_PAGE },
      env,
    );
    expect(start.response.status).toBe(302);
    const { url, cookie } = arrange({ authorizationUrl: start.authorizationUrl, cookie: start.cookie, person });

    const callback = await arriveAt(url, cookie, env);

    const redirect = redirectOf(callback);
    expect(`${redirect.url.origin}${redirect.url.pathname}`).toBe(errorPage);
    expect(redirect.error).toBe(error);
    expect(sessionCookieFrom(callback)).toBeUndefined();
    expect((await storedIdentity(person.email)).users).toEqual([]);
  });

  it("Better Auth's error page is off: our login page shows provider errors", async () => {
    const response = await callWorker('/api/auth/error?error=state_mismatch');
    expect(response.status).toBe(404);
    const page = await callWorker('/login?error=state_mismatch');
    expect(await page.text()).toContain('That sign-in expired or was started in another browser.');
  });
});

describe('replays', () => {
  async function signInOnce(person: FakeUser) {
    const start = await startSignIn('google', { callbackURL: `${APP_ORIGIN}/home` }, env);
    const url = providers.google.approve(start.authorizationUrl, person);
    const callback = await arriveAt(url, start.cookie, env);
    expect(sessionCookieFrom(callback)).toBeDefined();
    return { url, cookie: start.cookie };
  }

  it('refuses the same callback twice: the state is single-use', async () => {
    const person = newUser();
    const first = await signInOnce(person);

    const replay = await arriveAt(first.url, first.cookie, env);

    expect(redirectOf(replay).error).toBe('state_mismatch');
    expect(sessionCookieFrom(replay)).toBeUndefined();
    expect((await storedIdentity(person.email)).sessions).toHaveLength(1);
  });

  it('refuses a used code under a fresh state: Google redeems a code once', async () => {
    const person = newUser();
    const first = await signInOnce(person);
    const usedCode = new URL(first.url).searchParams.get('code');

    const again = await startSignIn('google', { callbackURL: `${APP_ORIGIN}/home` }, env);
    const freshState = new URL(again.authorizationUrl).searchParams.get('state');
    const replay = await arriveAt(
      withParam(withParam(providers.google.redirectUri, 'code', usedCode), 'state', freshState),
      again.cookie,
      env,
    );

    expect(redirectOf(replay).error).toBe('invalid_code');
    expect(providers.google.rejections).toEqual(['code already used']);
    expect(sessionCookieFrom(replay)).toBeUndefined();
    expect((await storedIdentity(person.email)).sessions).toHaveLength(1);
  });
});

describe('a provider that does not answer', () => {
  /** Makes the endpoint hold its requests; resolves once one is held. */
  const silences = [
    {
      provider: 'google' as const,
      endpoint: 'token',
      silence: () => providers.google.hold('token'),
      error: 'invalid_code',
    },
    {
      provider: 'google' as const,
      endpoint: 'certs',
      silence: () => providers.google.hold('certs'),
      error: 'unable_to_get_user_info',
    },
    {
      provider: 'github' as const,
      endpoint: 'user',
      silence: () => providers.github.hold('user'),
      error: 'unable_to_get_user_info',
    },
  ];

  // The deadline runs on setTimeout; with it faked, the test moves the clock
  // once the fake holds the request instead of waiting for real. The clock
  // also follows real time, because the database driver batches its writes
  // on zero-delay timers.
  it.each(silences)(
    `$provider $endpoint silent for ${PROVIDER_CALL_TIMEOUT_MS} ms → ?error=$error`,
    async ({ provider, silence, error }) => {
      const person = newUser();
      const start = await startSignIn(provider, { errorCallbackURL: APP_ERROR_PAGE }, env);
      const url = providers[provider].approve(start.authorizationUrl, person);
      const held = silence();

      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
      const pending = arriveAt(url, start.cookie, env);
      await held;
      await vi.advanceTimersByTimeAsync(PROVIDER_CALL_TIMEOUT_MS);
      const callback = await pending;
      vi.useRealTimers();

      const redirect = redirectOf(callback);
      expect(`${redirect.url.origin}${redirect.url.pathname}`).toBe(APP_ERROR_PAGE);
      expect(redirect.error).toBe(error);
      expect(sessionCookieFrom(callback)).toBeUndefined();
      expect((await storedIdentity(person.email)).users).toEqual([]);
    },
  );
});
