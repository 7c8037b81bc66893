/// <reference types="vite/client" />
import { env, listDurableObjectIds } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/index';
import { RATE_LIMITS } from '../src/rate-limit';
import wranglerToml from '../wrangler.toml?raw';
import {
  callApp,
  callWorker,
  countUsersWithEmail,
  databaseFingerprint,
  postJson,
  randomIp,
  signUp,
  TEST_AUTH_URL,
  uniqueEmail,
} from './helpers';

const json = { 'content-type': 'application/json' };

function signInRequest(email: string, ip: string, extraHeaders: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { ...json, 'cf-connecting-ip': ip, ...extraHeaders },
    body: JSON.stringify({ email, password: 'not the password' }),
  };
}

/**
 * The token limits' bindings count in windows aligned to the clock (a window
 * may end a moment after the first request): a test that fills one starts it
 * early in a window, so that it ends in the same one.
 */
async function earlyInATokenWindow(): Promise<void> {
  const windowMs = RATE_LIMITS.token.perIp.windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

async function expectRateLimited(response: Response) {
  expect(response.status).toBe(429);
  expect(await response.json()).toMatchObject({ code: 'RATE_LIMITED', requestId: expect.any(String) });
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  return retryAfter;
}

describe('rate limits', () => {
  it('count sign-ins per IP across separately created Worker instances', async () => {
    const instances = [createApp(), createApp()];
    const ip = randomIp();
    const { limit, windowSeconds } = RATE_LIMITS.signIn.perIp;
    for (let attempt = 0; attempt < limit; attempt++) {
      const instance = instances[attempt % 2] as ReturnType<typeof createApp>;
      const response = await callApp(instance, '/api/auth/sign-in/email', signInRequest(uniqueEmail(), ip));
      expect(response.status).toBe(401);
    }
    for (const instance of instances) {
      const refused = await callApp(instance, '/api/auth/sign-in/email', signInRequest(uniqueEmail(), ip));
      expect(await expectRateLimited(refused)).toBeLessThanOrEqual(windowSeconds);
    }
    // Another client is not affected.
    const other = await callWorker('/api/auth/sign-in/email', signInRequest(uniqueEmail(), randomIp()));
    expect(other.status).toBe(401);
    // The count lives in Durable Objects, not in either instance.
    expect((await listDurableObjectIds(env.RATE_LIMITER)).length).toBeGreaterThan(0);
  });

  it('take the IP from cf-connecting-ip only, whatever X-Forwarded-For says', async () => {
    const ip = randomIp();
    for (let attempt = 0; attempt < RATE_LIMITS.signIn.perIp.limit; attempt++) {
      await callWorker('/api/auth/sign-in/email', signInRequest(uniqueEmail(), ip, { 'x-forwarded-for': randomIp() }));
    }
    const spoofed = signInRequest(uniqueEmail(), ip, { 'x-forwarded-for': randomIp(), 'x-real-ip': randomIp() });
    await expectRateLimited(await callWorker('/api/auth/sign-in/email', spoofed));
  });

  it('treat an IPv6 /64 as one client', async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
    for (let attempt = 0; attempt < RATE_LIMITS.signIn.perIp.limit; attempt++) {
      const response = await callWorker(
        '/api/auth/sign-in/email',
        signInRequest(uniqueEmail(), `${prefix}::${attempt + 1}`),
      );
      expect(response.status).toBe(401);
    }
    await expectRateLimited(
      await callWorker('/api/auth/sign-in/email', signInRequest(uniqueEmail(), `${prefix}:0:0:0:ffff`)),
    );
  });

  it("never count the owner's successful sign-ins against the account", async () => {
    const user = await signUp();
    for (let attempt = 0; attempt < RATE_LIMITS.signIn.perAccount.limit + 2; attempt++) {
      const response = await postJson('/api/auth/sign-in/email', { email: user.email, password: user.password });
      expect(response.status).toBe(200);
    }
  });

  it('count sign-ins per account, whichever IP they come from', async () => {
    const user = await signUp();
    for (let attempt = 0; attempt < RATE_LIMITS.signIn.perAccount.limit; attempt++) {
      const response = await callWorker('/api/auth/sign-in/email', signInRequest(user.email, randomIp()));
      expect(response.status).toBe(401);
    }
    // Even the right password waits: the account is under attack.
    const right = await postJson('/api/auth/sign-in/email', { email: user.email, password: user.password });
    await expectRateLimited(right);
    expect(right.headers.getSetCookie()).toEqual([]);
  });

  it('count sign-ups per IP and write nothing for a refused one', async () => {
    const ip = randomIp();
    const body = (email: string) => ({ email, password: 'a good long password', name: 'Mass Signup' });
    for (let attempt = 0; attempt < RATE_LIMITS.signUp.perIp.limit; attempt++) {
      const response = await postJson('/api/auth/sign-up/email', body(uniqueEmail()), { 'cf-connecting-ip': ip });
      expect(response.status).toBe(200);
    }
    const email = uniqueEmail('refused');
    await expectRateLimited(await postJson('/api/auth/sign-up/email', body(email), { 'cf-connecting-ip': ip }));
    expect(await countUsersWithEmail(email)).toBe(0);
  });

  it('count password reset requests per IP', async () => {
    const ip = randomIp();
    for (let attempt = 0; attempt < RATE_LIMITS.passwordResetRequest.perIp.limit; attempt++) {
      await postJson('/api/auth/request-password-reset', { email: uniqueEmail() }, { 'cf-connecting-ip': ip });
    }
    const refused = await postJson(
      '/api/auth/request-password-reset',
      { email: uniqueEmail() },
      { 'cf-connecting-ip': ip },
    );
    await expectRateLimited(refused);
  });

  it('count token requests per session, however the credential is dressed up', async () => {
    const user = await signUp();
    const cookieValue = user.cookie.match(/session_token=([^;]+)/)?.[1] ?? '';
    const disguises: Array<Record<string, string>> = [
      { authorization: `Bearer ${user.sessionToken}` },
      { authorization: `bearer   ${user.sessionToken}  ` },
      { cookie: user.cookie },
      { authorization: 'Bearer junk.x', cookie: `__Secure-better-auth.session_token=${cookieValue}` },
    ];
    await earlyInATokenWindow();
    for (let attempt = 0; attempt < RATE_LIMITS.token.perAccount.limit; attempt++) {
      const response = await callWorker('/api/auth/token', { headers: disguises[attempt % disguises.length] });
      expect(response.status).toBe(200);
    }
    for (const headers of disguises) await expectRateLimited(await callWorker('/api/auth/token', { headers }));
  });

  it('count tokens in the location: a token request reaches no Durable Object', async () => {
    const user = await signUp();
    const before = (await listDurableObjectIds(env.RATE_LIMITER)).length;
    const response = await callWorker('/api/auth/token', {
      headers: { authorization: `Bearer ${user.sessionToken}`, 'cf-connecting-ip': randomIp() },
    });
    expect(response.status).toBe(200);
    expect((await listDurableObjectIds(env.RATE_LIMITER)).length).toBe(before);
  });

  it('count tokens per IP', async () => {
    const user = await signUp();
    const ip = randomIp();
    const headers = { authorization: `Bearer ${user.sessionToken}`, 'cf-connecting-ip': ip };
    // Per IP the budget is larger than per session: spread it over fresh sessions.
    const sessions = [user, ...(await Promise.all([signUp(), signUp()]))];
    await earlyInATokenWindow();
    for (let attempt = 0; attempt < RATE_LIMITS.token.perIp.limit; attempt++) {
      const session = sessions[attempt % sessions.length] as typeof user;
      const response = await callWorker('/api/auth/token', {
        headers: { authorization: `Bearer ${session.sessionToken}`, 'cf-connecting-ip': ip },
      });
      expect(response.status).toBe(200);
    }
    await expectRateLimited(await callWorker('/api/auth/token', { headers }));
  });

  it('let a token through when the per-IP binding is down, and refuse it when the per-session one is', async () => {
    const user = await signUp();
    const headers = { authorization: `Bearer ${user.sessionToken}` };
    const down = { limit: () => Promise.reject(new Error('binding unreachable')) } as unknown as RateLimit;
    const logged: string[] = [];
    const errors = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      logged.push(String(line));
    });
    try {
      // An outage must not stop every token; a flood at one session is what its limit stops.
      const ipDown = await callWorker('/api/auth/token', { headers }, { TOKEN_IP_LIMIT: down });
      expect(ipDown.status).toBe(200);
      await expectRateLimited(await callWorker('/api/auth/token', { headers }, { TOKEN_SESSION_LIMIT: down }));
    } finally {
      errors.mockRestore();
    }
    expect(logged.filter((line) => line.includes('"event":"rate_limiter_unavailable"'))).toHaveLength(2);
  });

  it('count tokens with the Rate Limiting bindings that wrangler.toml declares with the same limits', () => {
    // The binding's limit lives in wrangler.toml, the rule's in src/rate-limit.ts: they must agree.
    const { inLocation, perIp, perAccount } = RATE_LIMITS.token;
    for (const [binding, limit] of [
      [inLocation.perIp, perIp],
      [inLocation.perAccount, perAccount],
    ] as const) {
      const declared = new RegExp(
        `name = "${binding}"\\s+namespace_id = "\\d+"\\s+simple = \\{ limit = (\\d+), period = (\\d+) \\}`,
      ).exec(wranglerToml);
      expect({ binding, limit: Number(declared?.[1]), period: Number(declared?.[2]) }).toEqual({
        binding,
        limit: limit.limit,
        period: limit.windowSeconds,
      });
    }
  });
});

describe('origins', () => {
  it('refuses a sign-up from a foreign origin with 403 and writes nothing', async () => {
    const before = await databaseFingerprint();
    const response = await postJson(
      '/api/auth/sign-up/email',
      { email: uniqueEmail(), password: 'a good long password', name: 'CSRF' },
      { origin: 'https://evil.example' },
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'INVALID_ORIGIN', requestId: expect.any(String) });
    expect(await databaseFingerprint()).toBe(before);
  });

  it('refuses a cross-site sign-in even without an Origin header (login CSRF)', async () => {
    const user = await signUp();
    const request = signInRequest(user.email, randomIp(), { 'sec-fetch-site': 'cross-site', origin: '' });
    const response = await callWorker('/api/auth/sign-in/email', request);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'INVALID_ORIGIN' });
    expect(response.headers.getSetCookie()).toEqual([]);

    const nullOrigin = await callWorker(
      '/api/auth/sign-in/email',
      signInRequest(user.email, randomIp(), { origin: 'null' }),
    );
    expect(nullOrigin.status).toBe(403);
  });

  it('accepts origins listed in TRUSTED_ORIGINS, and clients that send no Origin', async () => {
    const user = await signUp();
    const body = { email: user.email, password: user.password };
    const trusted = await postJson(
      '/api/auth/sign-in/email',
      body,
      { origin: 'https://app.example.com' },
      {
        TRUSTED_ORIGINS: 'https://app.example.com',
      },
    );
    expect(trusted.status).toBe(200);
    const untrusted = await postJson('/api/auth/sign-in/email', body, { origin: 'https://app.example.com' });
    expect(untrusted.status).toBe(403);

    const server = await callWorker('/api/auth/sign-in/email', {
      method: 'POST',
      headers: { ...json, origin: '' },
      body: JSON.stringify(body),
    });
    expect(server.status).toBe(200);
  });

  it('refuses a cookie-carrying request without an Origin', async () => {
    const user = await signUp();
    const response = await callWorker('/api/auth/sign-out', {
      method: 'POST',
      headers: { ...json, cookie: user.cookie, origin: '' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'MISSING_OR_NULL_ORIGIN' });
  });

  it('refuses a callbackURL on a foreign origin (no open redirect)', async () => {
    const user = await signUp();
    const response = await postJson('/api/auth/sign-in/email', {
      email: user.email,
      password: user.password,
      callbackURL: 'https://evil.example/steal',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'INVALID_CALLBACK_URL' });
  });
});

describe('cookies and caching', () => {
  it('sets session cookies HttpOnly, SameSite=Lax, Secure and __Secure- on https', async () => {
    const user = await signUp();
    const response = await postJson('/api/auth/sign-in/email', { email: user.email, password: user.password });
    const session = response.headers.getSetCookie().find((cookie) => cookie.includes('session_token='));
    expect(session).toMatch(/^__Secure-better-auth\.session_token=/);
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; SameSite=Lax/i);
  });

  it('drops Secure and the prefix on plain-http localhost, for development', async () => {
    const local = { BETTER_AUTH_URL: 'http://localhost:8787' };
    const email = uniqueEmail();
    const response = await postJson(
      '/api/auth/sign-up/email',
      { email, password: 'a good long password', name: 'Local' },
      { origin: 'http://localhost:8787' },
      local,
    );
    const session = response.headers.getSetCookie().find((cookie) => cookie.includes('session_token='));
    expect(session).toMatch(/^better-auth\.session_token=/);
    expect(session).not.toMatch(/; Secure/i);
  });

  it('marks every credential response and every answer about the signed-in person no-store', async () => {
    const user = await signUp();
    const responses = [
      await postJson('/api/auth/sign-up/email', { email: uniqueEmail(), password: 'a good long password', name: 'N' }),
      await postJson('/api/auth/sign-in/email', { email: user.email, password: user.password }),
      await callWorker('/api/auth/session', { headers: { cookie: user.cookie } }),
      await callWorker('/api/auth/token', { headers: { cookie: user.cookie } }),
      // Our own routes answer about the person too.
      await callWorker('/api/me', { headers: { cookie: user.cookie } }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });
});

it('is not fooled by a trusted-looking Origin prefix', async () => {
  const response = await postJson(
    '/api/auth/sign-up/email',
    { email: uniqueEmail(), password: 'a good long password', name: 'Prefix' },
    { origin: `${TEST_AUTH_URL}.evil.example` },
  );
  expect(response.status).toBe(403);
});
