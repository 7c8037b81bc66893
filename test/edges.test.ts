// Cheap abuse and small edges the attack reviews found: requests that cost us
// far more than they cost the sender, an error page outside our headers, and
// details the README promises.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProviders, installFakeProviders } from './fakes/oauth-providers';
import { callWorker, postJson, randomIp, signUp, TEST_AUTH_URL } from './helpers';
import { APP_ORIGIN, redirectOf, startSignIn } from './oauth-flow';

let providers: FakeProviders;
beforeEach(async () => {
  providers = await installFakeProviders();
});
afterEach(() => providers.restore());

const codeOf = async (response: Response) => ((await response.json()) as { code: string }).code;

describe('one session credential per kind', () => {
  it('refuses a request with more than one session cookie with 400, before any limiter or query', async () => {
    const user = await signUp();
    const pairs = Array.from({ length: 300 }, (_, index) => `better-auth.session_token=fake${index}`).join('; ');
    for (const cookie of [pairs, `${user.cookie}; ${user.cookie.replace('session_token=', 'session_token=x')}`]) {
      const response = await callWorker('/api/auth/token', { headers: { cookie } });
      expect(response.status).toBe(400);
      expect(await codeOf(response)).toBe('MULTIPLE_SESSION_COOKIES');
    }
  });

  it('still serves one cookie, and one cookie beside a bearer token', async () => {
    const user = await signUp();
    expect((await callWorker('/api/auth/token', { headers: { cookie: user.cookie } })).status).toBe(200);
    const both = await callWorker('/api/auth/token', {
      headers: { cookie: user.cookie, authorization: `Bearer ${user.sessionToken}` },
    });
    expect(both.status).toBe(200);
  });
});

describe('provider sign-ins are limited per client address', () => {
  it('refuses the 31st sign-in start in a minute from one address: each one stores a state', async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 31; attempt++) {
      const path = attempt % 2 ? '/api/auth/sign-in/google' : '/api/auth/sign-in/github';
      statuses.push((await callWorker(path, { headers: { 'cf-connecting-ip': ip } }, providers.env)).status);
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(302));
    expect(statuses[30]).toBe(429);
    const social = await postJson(
      '/api/auth/sign-in/social',
      { provider: 'google' },
      { 'cf-connecting-ip': ip },
      providers.env,
    );
    expect(social.status).toBe(429);
  });
});

describe('IPv4-mapped IPv6 addresses count as their IPv4 address', () => {
  const signInFrom = (ip: string) =>
    postJson(
      '/api/auth/sign-in/email',
      { email: `nobody-${crypto.randomUUID()}@example.com`, password: 'x' },
      {
        'cf-connecting-ip': ip,
      },
    );

  it('gives each mapped address its own budget, shared with its plain IPv4 form', async () => {
    const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
    const ipv4 = `10.${a}.${b}.${c}`;
    for (let attempt = 0; attempt < 15; attempt++) expect((await signInFrom(ipv4)).status).toBe(401);
    for (let attempt = 0; attempt < 15; attempt++) expect((await signInFrom(`::ffff:${ipv4}`)).status).toBe(401);
    expect((await signInFrom(`::FFFF:${ipv4}`)).status).toBe(429);
    // Another mapped address is another client.
    expect((await signInFrom(`::ffff:10.${a}.${b}.${(Number(c) + 1) % 256}`)).status).toBe(401);
  });
});

describe("provider errors land on our login page, not Better Auth's error page", () => {
  it('sends a failure without errorCallbackURL to /login?error=', async () => {
    const start = await startSignIn('google', { callbackURL: `${APP_ORIGIN}/home` }, providers.env);
    const callback = await callWorker(
      `/api/auth/callback/google?state=${encodeURIComponent('not-a-state')}&code=x`,
      { headers: { cookie: start.cookie } },
      providers.env,
    );
    const redirect = redirectOf(callback);
    expect(`${redirect.url.origin}${redirect.url.pathname}`).toBe(`${TEST_AUTH_URL}/login`);
    expect(redirect.error).toBe('state_mismatch');
  });

  it('answers 404 at /api/auth/error, so nothing shows a description on our domain outside our pages', async () => {
    const response = await callWorker('/api/auth/error?error=x&error_description=Call+this+number');
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('Call this number');
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    '/login?error=%s shows the generic message, not an empty box',
    async (code) => {
      const page = await (await callWorker(`/login?error=${code}`)).text();
      expect(page).toContain('Sign-in failed. Try again.');
    },
  );
});

describe('every error answer carries X-Request-Id', () => {
  it.each([
    ['our 404', () => callWorker('/nowhere')],
    ['a validation error', () => postJson('/api/auth/sign-in/email', { email: 'not an email' })],
    [
      "Better Auth's own error",
      () => postJson('/api/auth/sign-in/email', { email: 'x@example.com', password: 'wrong' }),
    ],
    ['a refused origin', () => postJson('/api/auth/sign-out', {}, { origin: 'https://evil.example' })],
  ])('%s', async (_, call) => {
    const response = await call();
    expect(response.status).toBeGreaterThanOrEqual(400);
    const body = (await response.json()) as { requestId: string };
    expect(response.headers.get('x-request-id')).toBe(body.requestId);
  });
});

describe('TRUSTED_ORIGINS', () => {
  it('accepts http://*.localhost origins like localhost', async () => {
    const origin = 'http://app.localhost:3000';
    const response = await postJson('/api/auth/sign-out', {}, { origin }, { TRUSTED_ORIGINS: origin });
    expect(response.status).not.toBe(500);
    expect(response.status).not.toBe(403);
  });
});

describe('CORS for the web apps in TRUSTED_ORIGINS', () => {
  const trusted = { TRUSTED_ORIGINS: APP_ORIGIN };
  const preflight = (origin: string, path = '/api/auth/sign-in/email') =>
    callWorker(
      path,
      {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      },
      trusted,
    );

  it('answers a trusted origin’s preflight with 204, its origin, credentials, methods, headers and a max-age', async () => {
    const response = await preflight(APP_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('refuses an untrusted origin’s preflight with 403 and no CORS header', async () => {
    const response = await preflight('https://evil.example');
    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('INVALID_ORIGIN');
    for (const [name] of response.headers) expect(name).not.toMatch(/^access-control-/);
  });

  it('lets a trusted origin sign in, read the session and get a token, errors included', async () => {
    const user = await signUp();
    const headers = { origin: APP_ORIGIN };
    const signIn = await postJson(
      '/api/auth/sign-in/email',
      { email: user.email, password: user.password },
      headers,
      trusted,
    );
    const session = await callWorker('/api/auth/session', { headers: { ...headers, cookie: user.cookie } }, trusted);
    const token = await callWorker('/api/auth/token', { headers: { ...headers, cookie: user.cookie } }, trusted);
    const me = await callWorker('/api/me', { headers }, trusted);
    for (const [response, status] of [
      [signIn, 200],
      [session, 200],
      [token, 200],
      [me, 401],
    ] as const) {
      expect(response.status).toBe(status);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('vary')).toContain('Origin');
    }
  });

  it('gives an untrusted origin no CORS header on an answer, and Vary: Origin', async () => {
    const response = await callWorker('/api/auth/session', { headers: { origin: 'https://evil.example' } }, trusted);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it.each(['/api/auth/jwks', '/.well-known/jwks.json', '/.well-known/openid-configuration'])(
    '%s keeps Access-Control-Allow-Origin: *',
    async (path) => {
      const response = await callWorker(path, { headers: { origin: APP_ORIGIN } }, trusted);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    },
  );
});
