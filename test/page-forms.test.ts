import { describe, expect, it } from 'vitest';
import { emailsTo, fakeEmailApi, tokenFromLatestEmail } from './fakes/email-api';
import {
  callWorker,
  cookiesFrom,
  countUsersWithEmail,
  databaseFingerprint,
  postJson,
  randomIp,
  signUp,
  TEST_AUTH_URL,
  uniqueEmail,
} from './helpers';

// The pages' forms without JavaScript: each posts to its own page path, and
// the server answers through the same route as the JSON API (validation,
// limits, origin check), with a 303 on success or the page again, as HTML,
// with the error beside its field.

fakeEmailApi();

const FORM_PAGES = ['/login', '/signup', '/forgot-password', '/reset-password?token=abc'];

/** A browser's form post: urlencoded, with the page's own Origin unless told otherwise. */
function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return callWorker(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

async function expectHtmlPage(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  const text = await response.text();
  expect(text.startsWith('<!doctype html>')).toBe(true);
  expect(text).not.toContain('"code":');
  return text;
}

describe('forms without JavaScript', () => {
  // Regression: the forms had no method, so Enter before the script loaded
  // sent GET /login?email=…&password=…, the password in the address bar,
  // the history and the server's logs.
  it.each(FORM_PAGES)('%s posts its form to its own path, never with GET', async (path) => {
    const text = await (await callWorker(path)).text();
    const forms = [...text.matchAll(/<form\b[^>]*>/g)].map((match) => match[0]);
    expect(forms.length).toBeGreaterThan(0);
    for (const form of forms) {
      expect(form).toContain('method="post"');
      const action = form.match(/action="([^"]*)"/)?.[1] ?? '';
      expect(new URL(action.replaceAll('&amp;', '&'), TEST_AUTH_URL).pathname).toBe(path.split('?')[0]);
    }
  });

  it('signs in with a 303 to the redirect, carrying the session cookie', async () => {
    const user = await signUp();
    const response = await postForm('/login?redirect=%2Fdashboard', { email: user.email, password: user.password });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard');
    expect(response.headers.get('location')).not.toContain(user.password);
    const cookie = cookiesFrom(response);
    expect(cookie).toContain('better-auth.session_token=');
    const session = await callWorker('/api/auth/session', { headers: { cookie } });
    expect(((await session.json()) as { user: { email: string } }).user.email).toBe(user.email);
  });

  it('follows no foreign redirect after a sign-in', async () => {
    const user = await signUp();
    const response = await postForm(`/login?redirect=${encodeURIComponent('//evil.example/x')}`, {
      email: user.email,
      password: user.password,
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/account');
  });

  it('answers a wrong password with the page again, the error at the password, the email kept, no password', async () => {
    const user = await signUp();
    const response = await postForm('/login', { email: user.email, password: 'not the password at all' });
    const text = await expectHtmlPage(response, 401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(text).toMatch(/id="password-error"[^>]*>That email and password do not match an account\./);
    expect(text).toContain(`value="${user.email}"`);
    expect(text).not.toContain('not the password at all');
    expect(text).toMatch(/<input[^>]*id="password"[^>]*aria-invalid="true"/);
  });

  it('checks the fields with the API schema, writes nothing, and says which field', async () => {
    const before = await databaseFingerprint();
    const email = 'not-an-email';
    const response = await postForm('/signup', { name: 'Ada', email, password: 'long enough password' });
    const text = await expectHtmlPage(response, 400);
    expect(text).toMatch(/id="email-error"[^>]*>Enter a valid email address, like name@example\.com\./);
    expect(text).toContain('value="Ada"');
    expect(await databaseFingerprint()).toBe(before);
  });

  it('refuses a short password at sign-up beside the password field', async () => {
    const email = uniqueEmail('short');
    const response = await postForm('/signup', { name: 'Ada', email, password: 'short' });
    const text = await expectHtmlPage(response, 400);
    expect(text).toMatch(/id="password-error"[^>]*>Password must be at least 8 characters\./);
    expect(await countUsersWithEmail(email)).toBe(0);
  });

  it('refuses a post from a foreign site, as the API does, and writes nothing', async () => {
    const before = await databaseFingerprint();
    const email = uniqueEmail('csrf');
    const response = await postForm(
      '/signup',
      { name: 'Mallory', email, password: 'long enough password' },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    const text = await expectHtmlPage(response, 403);
    expect(text).toContain('This page may not be sent from another site.');
    expect(await countUsersWithEmail(email)).toBe(0);
    expect(await databaseFingerprint()).toBe(before);
  });

  it('signs up with a 303 to the account page and a session', async () => {
    const email = uniqueEmail('form');
    const response = await postForm('/signup', { name: 'Grace', email, password: 'long enough password' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/account');
    expect(cookiesFrom(response)).toContain('better-auth.session_token=');
    expect(await countUsersWithEmail(email)).toBe(1);
  });

  it('offers "Sign in instead" with the email when the address has an account', async () => {
    const user = await signUp();
    const response = await postForm('/signup', { name: 'Ada', email: user.email, password: 'long enough password' });
    const text = await expectHtmlPage(response, 422);
    expect(text).toMatch(/id="email-error"[^>]*>An account with this email already exists\./);
    expect(text).toContain(`href="/login?email=${encodeURIComponent(user.email).replaceAll('%40', '%40')}`);
    expect(text).toContain('Sign in instead');
  });

  it('counts form posts and API calls against the same limit, and says when to retry', async () => {
    const user = await signUp();
    const ip = randomIp();
    // The per-account limit of wrong passwords: 10 per 15 minutes.
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await postJson(
        '/api/auth/sign-in/email',
        { email: user.email, password: `wrong ${attempt}` },
        { 'cf-connecting-ip': ip },
      );
      expect(response.status).toBe(401);
    }
    const response = await postForm('/login', { email: user.email, password: 'wrong again' });
    const text = await expectHtmlPage(response, 429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(text).toContain('Too many attempts. Try again in about 15 minutes.');
  });

  it('sends the reset link and shows "Check your email" instead of the form', async () => {
    const user = await signUp();
    const response = await postForm('/forgot-password', { email: user.email });
    const text = await expectHtmlPage(response, 200);
    expect(text).toContain('Check your email');
    expect(text).not.toMatch(/<form\b[^>]*action="\/forgot-password"/);
    expect(emailsTo(user.email).some((email) => email.text.includes('/reset-password?token='))).toBe(true);
  });

  it('resets the password through the form: a mismatch, a bad token, then success', async () => {
    const user = await signUp();
    await postJson('/api/auth/request-password-reset', { email: user.email });
    const token = tokenFromLatestEmail(user.email, '/reset-password');
    const newPassword = 'a brand new password';

    const mismatch = await postForm('/reset-password', { token, password: newPassword, confirm: 'other' });
    expect(await expectHtmlPage(mismatch, 400)).toMatch(/id="confirm-error"[^>]*>The two passwords are not the same\./);

    const bad = await postForm('/reset-password', { token: `${token}x`, password: newPassword, confirm: newPassword });
    const badText = await expectHtmlPage(bad, 400);
    expect(badText).toContain('Ask for a new link');

    const done = await postForm('/reset-password', { token, password: newPassword, confirm: newPassword });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/login?reset=done');
    expect(done.headers.get('location')).not.toContain(token);
    const signIn = await postJson('/api/auth/sign-in/email', { email: user.email, password: newPassword });
    expect(signIn.status).toBe(200);
  });

  it('refuses a body over the API limit before reading it', async () => {
    const response = await postForm('/login', { email: 'a@example.com', password: 'x'.repeat(70 * 1024) });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

describe('the Origin of a form post', () => {
  // Under the pages' Referrer-Policy: no-referrer, Chromium sends a form
  // post's Origin as `null`; Sec-Fetch-Site still tells where it came from.
  it('accepts Origin: null from this origin (Sec-Fetch-Site: same-origin)', async () => {
    const user = await signUp();
    const response = await postForm(
      '/login',
      { email: user.email, password: user.password },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(response.status).toBe(303);
  });

  it.each([
    ['cross-site', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ['same-site', { origin: 'null', 'sec-fetch-site': 'same-site' }],
    ['unsaid', { origin: 'null' }],
  ])('refuses Origin: null from elsewhere (%s), writing nothing', async (_label, headers) => {
    const before = await databaseFingerprint();
    const email = uniqueEmail('null-origin');
    const response = await postForm('/signup', { name: 'Mallory', email, password: 'long enough password' }, headers);
    expect(await expectHtmlPage(response, 403)).toContain('This page may not be sent from another site.');
    expect(await databaseFingerprint()).toBe(before);
  });
});

describe('sign-up that waits for the email (REQUIRE_EMAIL_VERIFICATION=true)', () => {
  const strict = { REQUIRE_EMAIL_VERIFICATION: 'true' };

  it('says where the link went, sets no session, and sends it again on request', async () => {
    const email = uniqueEmail('strict-form');
    const response = await callWorker(
      '/signup',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Ada', email, password: 'long enough password' }).toString(),
        redirect: 'manual',
      },
      strict,
    );
    const text = await expectHtmlPage(response, 200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(text).toContain(`We sent a link to ${email}.`);
    expect(text).toContain('name="intent" value="resend"');

    const again = await callWorker(
      '/signup',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ intent: 'resend', email }).toString(),
      },
      strict,
    );
    expect(await expectHtmlPage(again, 200)).toContain(`We sent a new link to ${email}.`);
    expect(emailsTo(email)).toHaveLength(2);
  });
});
