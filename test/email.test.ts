import { afterEach, describe, expect, it, vi } from 'vitest';
import { emailsTo, fakeEmailApi, tokenFromLatestEmail } from './fakes/email-api';
import { callWorker, cookiesFrom, postJson, signUp, TEST_AUTH_URL, uniqueEmail } from './helpers';
import { TEST_EMAIL_FROM, TEST_RESEND_API_KEY } from './setup/constants';

const api = fakeEmailApi();

afterEach(() => {
  vi.restoreAllMocks();
});

async function sessionUser(cookie: string, overrides = {}) {
  const response = await callWorker('/api/auth/session', { headers: { cookie } }, overrides);
  return ((await response.json()) as { user: { emailVerified: boolean } } | null)?.user ?? null;
}

function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
  }
  return lines;
}

describe('verification email', () => {
  it('is sent on sign-up through the email API, with a link to our page that verifies the address', async () => {
    const user = await signUp();
    const [email, ...more] = emailsTo(user.email);
    expect(more).toHaveLength(0);
    expect(email).toMatchObject({
      from: TEST_EMAIL_FROM,
      to: [user.email],
      subject: 'Verify your email for auth-worker',
    });
    expect(email?.headers.get('authorization')).toBe(`Bearer ${TEST_RESEND_API_KEY}`);
    expect(email?.headers.get('content-type')).toBe('application/json');
    expect(email?.text).toContain(`${TEST_AUTH_URL}/verify-email?token=`);
    expect(email?.html).toContain(`href="${TEST_AUTH_URL}/verify-email?token=`);

    expect((await sessionUser(user.cookie))?.emailVerified).toBe(false);
    const token = tokenFromLatestEmail(user.email, '/verify-email');
    const verified = await callWorker(`/api/auth/verify-email?token=${encodeURIComponent(token)}`);
    expect(verified.status).toBe(200);
    expect((await sessionUser(user.cookie))?.emailVerified).toBe(true);
  });

  it('refuses a tampered token', async () => {
    const user = await signUp();
    const token = tokenFromLatestEmail(user.email, '/verify-email');
    const response = await callWorker(`/api/auth/verify-email?token=${encodeURIComponent(`${token}x`)}`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('INVALID_TOKEN');
    expect((await sessionUser(user.cookie))?.emailVerified).toBe(false);
  });

  it('can be sent again, at most 3 times an hour per address', async () => {
    const user = await signUp();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      statuses.push((await postJson('/api/auth/send-verification-email', { email: user.email })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(emailsTo(user.email)).toHaveLength(1 + 3);
  });
});

describe('what the emails say', () => {
  it('name the app from APP_NAME, in a plain-text part and a simple HTML part, with the lifetime and what to do if not asked', async () => {
    const branded = { APP_NAME: 'Acme', SUPPORT_URL: 'mailto:help@acme.example' };
    const user = await signUp(branded);
    await postJson('/api/auth/request-password-reset', { email: user.email }, {}, branded);
    const [verify, reset] = emailsTo(user.email);
    expect(verify?.subject).toBe('Verify your email for Acme');
    expect(reset?.subject).toBe('Reset your Acme password');
    for (const email of [verify, reset]) {
      expect(email?.text.startsWith('Acme\n')).toBe(true);
      expect(email?.text).toMatch(/works (once, )?for 60 minutes/);
      expect(email?.text).toMatch(/If you did not (sign up for Acme|ask), ignore this email/);
      expect(email?.text).toContain('Questions? Contact support: mailto:help@acme.example');
      expect(email?.text).not.toContain('<');
      expect(email?.html).toMatch(/^<!doctype html><html lang="en">/);
      expect(email?.html).toContain('>Acme</p>');
      // The link twice: a button, and written out for clients that hide buttons.
      expect(
        email?.html.match(new RegExp(`href="${TEST_AUTH_URL}/(verify-email|reset-password)\\?token=`, 'g')),
      ).toHaveLength(2);
      expect(email?.html).not.toContain('<script');
    }
  });

  it('escape the address and the app name in the HTML part', async () => {
    const user = await signUp({ APP_NAME: 'Acme & Sons' });
    const [verify] = emailsTo(user.email);
    expect(verify?.subject).toBe('Verify your email for Acme & Sons');
    expect(verify?.html).toContain('Acme &#38; Sons');
    expect(verify?.html).not.toContain('Acme & Sons');
  });
});

describe('password reset email', () => {
  it('links to our reset page; the token sets a new password once and ends the old sessions', async () => {
    const user = await signUp();
    const requested = await postJson('/api/auth/request-password-reset', { email: user.email });
    expect(requested.status).toBe(200);
    const email = emailsTo(user.email).at(-1);
    expect(email).toMatchObject({
      from: TEST_EMAIL_FROM,
      to: [user.email],
      subject: 'Reset your auth-worker password',
    });
    expect(email?.text).toContain(`${TEST_AUTH_URL}/reset-password?token=`);

    const token = tokenFromLatestEmail(user.email, '/reset-password');
    const newPassword = 'a brand new password 42';
    const reset = await postJson('/api/auth/reset-password', { token, newPassword });
    expect(reset.status).toBe(200);
    // Used once.
    expect((await postJson('/api/auth/reset-password', { token, newPassword: 'yet another password' })).status).toBe(
      400,
    );

    expect(await sessionUser(user.cookie)).toBeNull();
    const old = await postJson('/api/auth/sign-in/email', { email: user.email, password: user.password });
    expect(old.status).toBe(401);
    const signedIn = await postJson('/api/auth/sign-in/email', { email: user.email, password: newPassword });
    expect(signedIn.status).toBe(200);
  });

  it('answers the same for an unknown address and sends nothing', async () => {
    const email = uniqueEmail('nobody');
    const response = await postJson('/api/auth/request-password-reset', { email });
    expect(response.status).toBe(200);
    expect(emailsTo(email)).toHaveLength(0);
  });

  it('still answers 200 when the email API fails, and logs neither the key nor the recipient', async () => {
    const user = await signUp();
    const lines = captureConsole();
    api.failNext = 500;
    const response = await postJson('/api/auth/request-password-reset', { email: user.email });
    expect(response.status).toBe(200);
    const output = lines.join('\n');
    expect(output).toContain('"event":"mail_failed"');
    expect(output).toContain('"status":500');
    expect(output).not.toContain(TEST_RESEND_API_KEY);
    expect(output).not.toContain(user.email);
  });
});

describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
  const strict = { REQUIRE_EMAIL_VERIFICATION: 'true' };

  it('creates no session at sign-up and refuses sign-in until the email is verified', async () => {
    const email = uniqueEmail('strict');
    const password = 'correct horse battery staple';
    const signedUp = await postJson('/api/auth/sign-up/email', { email, password, name: 'Strict' }, {}, strict);
    expect(signedUp.status).toBe(200);
    expect(((await signedUp.json()) as { token: string | null }).token).toBeNull();
    expect(cookiesFrom(signedUp)).not.toContain('session_token');

    const refused = await postJson('/api/auth/sign-in/email', { email, password }, {}, strict);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('EMAIL_NOT_VERIFIED');

    const token = tokenFromLatestEmail(email, '/verify-email');
    expect((await callWorker(`/api/auth/verify-email?token=${encodeURIComponent(token)}`, {}, strict)).status).toBe(
      200,
    );
    const signedIn = await postJson('/api/auth/sign-in/email', { email, password }, {}, strict);
    expect(signedIn.status).toBe(200);
  });
});

describe('the development mailer', () => {
  const local = { BETTER_AUTH_URL: 'http://localhost:8787', RESEND_API_KEY: undefined, EMAIL_FROM: undefined };

  it('prints the link on localhost and calls no email API', async () => {
    const email = uniqueEmail('dev');
    const sentBefore = api.sent.length;
    const lines = captureConsole();
    const response = await postJson(
      '/api/auth/sign-up/email',
      { email, password: 'correct horse battery staple', name: 'Dev' },
      { origin: 'http://localhost:8787' },
      local,
    );
    expect(response.status).toBe(200);
    const line = lines.find((candidate) => candidate.startsWith('[dev mailer]'));
    expect(line).toContain(`to=${email}`);
    expect(line).toMatch(/link=http:\/\/localhost:8787\/verify-email\?token=\S+$/);
    expect(api.sent.length).toBe(sentBefore);
  });

  it('is never used outside localhost: without an email API, mail is off and nothing else breaks', async () => {
    const production = { ...local, BETTER_AUTH_URL: TEST_AUTH_URL };
    const email = uniqueEmail('no-mail');
    const sentBefore = api.sent.length;
    const lines = captureConsole();

    const signUpResponse = await postJson(
      '/api/auth/sign-up/email',
      { email, password: 'correct horse battery staple', name: 'No Mail' },
      {},
      production,
    );
    expect(signUpResponse.status).toBe(200);
    const reset = await postJson('/api/auth/request-password-reset', { email }, {}, production);
    expect(reset.status).toBeGreaterThanOrEqual(400);
    expect(reset.status).toBeLessThan(500);
    expect((await callWorker('/api/auth/jwks', {}, production)).status).toBe(200);

    expect(lines.some((line) => line.startsWith('[dev mailer]'))).toBe(false);
    expect(api.sent.length).toBe(sentBefore);
  });

  it('refuses REQUIRE_EMAIL_VERIFICATION without an email API outside localhost, naming RESEND_API_KEY', async () => {
    const response = await callWorker(
      '/api/auth/session',
      {},
      { ...local, BETTER_AUTH_URL: TEST_AUTH_URL, REQUIRE_EMAIL_VERIFICATION: 'true' },
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('SERVER_MISCONFIGURED');
    expect(body.message).toContain('RESEND_API_KEY');
  });
});
