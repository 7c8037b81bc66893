import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { session } from '../src/db/schema';
import { fakeEmailApi } from './fakes/email-api';
import {
  callWorker,
  cookiesFrom,
  countUsersWithEmail,
  databaseFingerprint,
  signUp,
  uniqueEmail,
  withDb,
} from './helpers';

// Attacks on the pages' forms without JavaScript (src/pages/routes.tsx,
// src/pages/api-call.ts): each found in review, each failing before its fix.

fakeEmailApi();

const FORM_PATHS = ['/login', '/signup', '/forgot-password', '/reset-password'];

describe('form bodies the browser would never send', () => {
  // Regression: Hono's parseBody threw on a multipart body it could not
  // parse, and the page answered a JSON 500 logged as an error: anyone could
  // fill the error log (and page whoever watches it) with one crafted post.
  it.each(
    FORM_PATHS.flatMap((path) => [
      [path, 'multipart/form-data', 'email=a@example.com'],
      [path, 'multipart/form-data; boundary=xyz', 'not a multipart body'],
      [path, 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c'],
    ]),
  )('%s answers %s with a body it cannot parse as a 400 page, writing nothing', async (path, type, body) => {
    const before = await databaseFingerprint();
    const response = await callWorker(path, { method: 'POST', headers: { 'content-type': type }, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('<form');
    expect(await databaseFingerprint()).toBe(before);
  });
});

describe('cross-site form posts from a browser that sends no Origin', () => {
  // Regression (login CSRF): the API takes only application/json, which a
  // foreign page cannot send, so the Origin check was its second line; the
  // form paths take what any page can post. A browser that sends neither
  // Origin nor Sec-Fetch-Site with a form post (Firefox before 70, older
  // embedded browsers) passed the check as if it were a server, and a
  // foreign page signed the victim into the attacker's account.
  it('signs no one in', async () => {
    const attacker = await signUp();
    const response = await callWorker('/login', {
      method: 'POST',
      headers: { origin: '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: attacker.email, password: attacker.password }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect(cookiesFrom(response)).not.toContain('session_token');
    expect(await response.text()).toContain('This page may not be sent from another site.');
  });

  it('creates no account and writes nothing', async () => {
    const before = await databaseFingerprint();
    const email = uniqueEmail('no-origin');
    const response = await callWorker('/signup', {
      method: 'POST',
      headers: { origin: '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Mallory', email, password: 'long enough password' }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect(await countUsersWithEmail(email)).toBe(0);
    expect(await databaseFingerprint()).toBe(before);
  });
});

describe('GET /login with a session', () => {
  // Regression: "Continue as …" read the session with a refresh, so any link
  // to /login (a foreign page's, too) wrote to the session row and extended
  // it, while the refreshed cookie was dropped: a GET page with a side effect.
  it('reads the session without extending it', async () => {
    const user = await signUp();
    // A session last refreshed two days ago: Better Auth refreshes one older than a day.
    const stale = new Date(Date.now() + 5 * 24 * 60 * 60 * 1000);
    await withDb((db) => db.update(session).set({ expiresAt: stale }).where(eq(session.userId, user.id)));
    const response = await callWorker('/login', { headers: { cookie: user.cookie } });
    expect(await response.text()).toContain(user.email);
    const [row] = await withDb((db) => db.select().from(session).where(eq(session.userId, user.id)));
    expect(row?.expiresAt.getTime()).toBe(stale.getTime());
  });
});

describe('the account page before (or without) its script', () => {
  // Regression: the account page's forms had no method. The script binds
  // their submit handlers only after the session read; when that read fails
  // (a 503, a rate limit, the network) the page is shown with the forms but
  // no handlers, and "Change password" sent GET
  // /account?current-password=…&new-password=…: both passwords in the
  // address bar, the history and every log on the way.
  it('sends no password or code of its forms in a URL', async () => {
    const text = await (await callWorker('/account')).text();
    const forms = [...text.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((match) => match[0]);
    const secretForms = forms.filter((form) => /type="password"|autocomplete="one-time-code"/.test(form));
    expect(secretForms.length).toBeGreaterThanOrEqual(3);
    for (const form of secretForms) expect(form.match(/<form\b[^>]*>/)?.[0]).toContain('method="post"');
  });
  // The admin page's forms carry a ban reason and the addresses searched for:
  // no secrets, but personal data that has no place in URLs and logs either.
  it.each(['/admin', '/account', '/login', '/signup', '/forgot-password', '/reset-password?token=t'])(
    '%s: every form posts, so nothing typed lands in a URL before the script runs',
    async (path) => {
      const text = await (await callWorker(path)).text();
      const forms = [...text.matchAll(/<form\b[^>]*>/g)].map((match) => match[0]);
      expect(forms.length).toBeGreaterThan(0);
      for (const form of forms) expect(form).toContain('method="post"');
    },
  );
});
