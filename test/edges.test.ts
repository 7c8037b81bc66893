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
