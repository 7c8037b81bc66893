import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS } from '../src/audit/events';
import { app } from '../src/index';
import { CONTENT_SECURITY_POLICY, DEFAULT_REDIRECT, PAGE_SECURITY_HEADERS, safeRedirect } from '../src/pages/security';
import { installFakeProviders } from './fakes/oauth-providers';
import { callWorker, signUp, TEST_AUTH_URL } from './helpers';

const PAGES = [
  '/login',
  '/signup',
  '/account',
  '/forgot-password',
  '/reset-password?token=abc',
  '/verify-email?token=abc',
  '/admin',
];

/** Where the app serves JSON and key documents, not pages: these carry no page headers. */
const NOT_PAGES = [/^\/api\//, /^\/\.well-known\//, /^\/health(\/|$)/];

/** Every GET route the app has registered outside NOT_PAGES, read from the app itself. */
const REGISTERED_PAGES = [
  ...new Set(
    app.routes
      .filter((route) => route.method === 'GET' && !NOT_PAGES.some((pattern) => pattern.test(route.path)))
      .map((route) => route.path),
  ),
];

async function pageText(path: string, overrides = {}, init: RequestInit = {}) {
  const response = await callWorker(path, init, overrides);
  expect(response.status).toBe(200);
  return { response, text: await response.text() };
}

/** The values of `attribute` on the page, in order. */
function attributes(html: string, attribute: string): string[] {
  return [...html.matchAll(new RegExp(`${attribute}="([^"]*)"`, 'g'))].map((match) =>
    (match[1] ?? '').replaceAll('&amp;', '&').replaceAll('&quot;', '"'),
  );
}

describe('pages', () => {
  it.each(PAGES)('%s is HTML with a strict Content-Security-Policy and no inline script', async (path) => {
    const { response, text } = await pageText(path);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(text).toContain('<html lang="en">');
    // Every script is external (allowed by script-src 'self'); no inline code, no inline handlers or styles.
    for (const script of text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1]).toContain('src="/assets/pages.js"');
      expect(script[2]).toBe('');
    }
    expect(text).not.toMatch(/\son[a-z]+=/);
    expect(text).not.toMatch(/\sstyle=/);
  });

  it('finds the pages among the app routes', () => {
    const known = [...PAGES.map((path) => path.split('?')[0]), '/', '/assets/pages.js', '/assets/pages.css'];
    expect(REGISTERED_PAGES).toEqual(expect.arrayContaining(known));
  });

  // Regression: the headers came from a hand list of paths, so a page left off it had no CSP.
  it.each(REGISTERED_PAGES)('%s, a registered page route, carries every page security header', async (path) => {
    expect(path, 'a page path with parameters needs a concrete example here').not.toMatch(/[:*]/);
    const response = await callWorker(path, { redirect: 'manual' });
    expect(response.status).toBeLessThan(400);
    for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) expect(response.headers.get(name)).toBe(value);
  });

  it('labels every input and ties its error message to it', async () => {
    for (const path of ['/login', '/signup', '/forgot-password', '/reset-password?token=abc']) {
      const { text } = await pageText(path);
      const ids = attributes(text, ' id').filter((id) => text.includes(`name="${id}"`));
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        expect(text).toContain(`<label for="${id}">`);
        expect(text).toMatch(new RegExp(`id="${id}"[^>]*aria-describedby="[^"]*${id}-error`));
        expect(text).toContain(`id="${id}-error"`);
      }
    }
  });

  it('labels every control of the admin page, and lists every event type in its filter', async () => {
    const { text } = await pageText('/admin');
    const controls = [...text.matchAll(/<(input|select)[^>]*\sid="([^"]+)"/g)].map((match) => match[2] ?? '');
    expect(controls.sort()).toEqual(['ban-duration', 'ban-reason', 'log-type', 'log-user', 'search', 'search-field']);
    for (const id of controls) expect(text).toContain(`<label for="${id}">`);
    const types = attributes(text, 'value').filter((value) => Object.hasOwn(AUDIT_EVENTS, value));
    expect(types).toEqual(Object.keys(AUDIT_EVENTS));
  });

  it('serves the script and stylesheet with the same headers', async () => {
    const script = await callWorker('/assets/pages.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.headers.get('cache-control')).toBe('public, max-age=300');
    // Built from src/pages/client/: browser JavaScript, not the TypeScript source.
    const scriptText = await script.text();
    expect(scriptText).toContain('/api/auth/sign-in/email');
    expect(scriptText).not.toContain('HTMLFormElement');
    const style = await callWorker('/assets/pages.css');
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    expect(style.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await style.text()).toContain('.card{');
  });

  it('leaves API responses without page headers', async () => {
    const response = await callWorker('/api/auth/session');
    expect(response.headers.get('content-security-policy')).toBeNull();
  });

  it('escapes a token from the query string into an attribute', async () => {
    const { text } = await pageText(`/reset-password?token=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(text).not.toContain('<script>alert(1)');
    expect(text).toContain('name="token" value="&quot;&gt;&lt;script&gt;');
  });

  it('sends /.well-known/change-password (where password managers look) to the account page', async () => {
    const response = await callWorker('/.well-known/change-password', { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/account');
  });

  it('login: passkey autofill on the email field, a show-password button, a passkey button and a code step', async () => {
    const { text } = await pageText('/login');
    expect(text).toMatch(/id="email"[^>]*autocomplete="username webauthn"/);
    expect(text).toMatch(/<button[^>]*data-reveal="password"[^>]*aria-controls="password"/);
    expect(text).toContain('Sign in with a passkey');
    expect(text).toMatch(/<template data-two-factor-step[^>]*><form[^>]*data-form="two-factor"/);
    expect(text).toMatch(/id="code"[^>]*autocomplete="one-time-code"/);
  });

  it('account: passkeys, two-factor and a change-password form, every input labelled', async () => {
    const { text } = await pageText('/account');
    for (const heading of ['Passkeys', 'Two-factor authentication', 'Change your password']) {
      expect(text).toContain(`>${heading}</h2>`);
    }
    const ids = [...text.matchAll(/<input[^>]*\sid="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(ids).toEqual(
      expect.arrayContaining([
        'passkey-name',
        'enable-password',
        'confirm-code',
        'disable-password',
        'current-password',
        'new-password',
      ]),
    );
    for (const id of ids) expect(text).toContain(`<label for="${id}">`);
  });

  it('sends / (where a provider sign-in without callbackURL lands) to the account page', async () => {
    const response = await callWorker('/', { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/account');
  });

  it('shows a readable error for a reset page without a token, and for a failed provider sign-in', async () => {
    expect((await pageText('/reset-password')).text).toContain('This link is incomplete');
    expect((await pageText('/login?error=account_not_linked')).text).toContain(
      'An account with this email already exists',
    );
    expect((await pageText('/login?error=BANNED_USER')).text).toContain('This account is banned.');
  });
});

describe('the redirect parameter', () => {
  const trusted = 'https://app.example.com';
  const cases: Array<[string, string]> = [
    ['/dashboard?tab=1', '/dashboard?tab=1'],
    ['/', '/'],
    [`${trusted}/home`, `${trusted}/home`],
    [`${TEST_AUTH_URL}/account`, `${TEST_AUTH_URL}/account`],
    ['//evil.com', DEFAULT_REDIRECT],
    ['//evil.com/path', DEFAULT_REDIRECT],
    ['/\\evil.com', DEFAULT_REDIRECT],
    ['\\\\evil.com', DEFAULT_REDIRECT],
    ['/\t/evil.com', DEFAULT_REDIRECT],
    ['https://evil.com', DEFAULT_REDIRECT],
    ['https://app.example.com.evil.com/', DEFAULT_REDIRECT],
    ['http://app.example.com/', DEFAULT_REDIRECT],
    ['javascript:alert(1)', DEFAULT_REDIRECT],
    ['data:text/html,hi', DEFAULT_REDIRECT],
    ['evil.com', DEFAULT_REDIRECT],
    [`/${'a'.repeat(2048)}`, DEFAULT_REDIRECT],
    ['', DEFAULT_REDIRECT],
  ];

  it.each(cases)('%j → %j', (value, expected) => {
    expect(safeRedirect(value, [TEST_AUTH_URL, trusted])).toBe(expected);
  });

  it.each([
    ['/dashboard', '/dashboard'],
    ['//evil.com', DEFAULT_REDIRECT],
    ['https://evil.com/', DEFAULT_REDIRECT],
    ['https://app.example.com/home', 'https://app.example.com/home'],
  ])('the login page follows %j as %j', async (value, expected) => {
    const { text } = await pageText(`/login?redirect=${encodeURIComponent(value)}`, {
      TRUSTED_ORIGINS: trusted,
    });
    // The password form, the passkey button and the code step all go there.
    expect([...new Set(attributes(text, 'data-redirect'))]).toEqual([expected]);
    expect(text).not.toContain('evil.com');
  });
});

describe('provider buttons', () => {
  it('are absent when no provider is configured', async () => {
    const { text } = await pageText('/login');
    expect(text).not.toContain('Continue with');
    expect(text).not.toContain('/api/auth/sign-in/');
  });

  it('appear for the configured providers only, with the redirect as callbackURL', async () => {
    const fakes = await installFakeProviders();
    try {
      const env = {
        GOOGLE_CLIENT_ID: fakes.env.GOOGLE_CLIENT_ID,
        GOOGLE_CLIENT_SECRET: fakes.env.GOOGLE_CLIENT_SECRET,
      };
      for (const path of ['/login?redirect=%2Fdashboard', '/signup?redirect=%2Fdashboard']) {
        const { text } = await pageText(path, env);
        expect(text).toContain('Continue with Google');
        expect(text).not.toContain('GitHub');
        expect(text).not.toContain('Discord');
        const links = attributes(text, 'href').filter((href) => href.startsWith('/api/auth/sign-in/'));
        expect(links).toEqual(['/api/auth/sign-in/google?callbackURL=%2Fdashboard&errorCallbackURL=%2Flogin']);
        // The link works: it leads to Google's consent screen.
        const response = await callWorker(links[0] ?? '', { redirect: 'manual' }, env);
        expect(response.status).toBe(302);
        expect(new URL(response.headers.get('location') ?? '').host).toBe('accounts.google.com');
      }
    } finally {
      fakes.restore();
    }
  });
});

describe('branding and states', () => {
  it('names the app from APP_NAME in the title and heading, auth-worker by default', async () => {
    const branded = (await pageText('/login', { APP_NAME: 'Acme' })).text;
    expect(branded).toContain('<title>Sign in to Acme</title>');
    expect(branded).toContain('<h1>Sign in to Acme</h1>');
    expect((await pageText('/signup', { APP_NAME: 'Acme' })).text).toContain('<h1>Create your Acme account</h1>');
    expect((await pageText('/forgot-password', { APP_NAME: 'Acme' })).text).toContain(
      '<title>Reset your password · Acme</title>',
    );
    expect((await pageText('/login')).text).toContain('<h1>Sign in to auth-worker</h1>');
  });

  it('serves an icon, so /favicon.ico is no longer a JSON 404', async () => {
    expect((await pageText('/login')).text).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml"/>');
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const response = await callWorker(path, {}, { APP_NAME: 'Acme', ACCENT_COLOR: '#0b6e4f' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      const svg = await response.text();
      expect(svg).toContain('fill="#0b6e4f"');
      expect(svg).toContain('>A</text>');
    }
  });

  it('links the accent stylesheet, a same-origin logo and the support link only when configured', async () => {
    const plain = (await pageText('/login')).text;
    expect(plain).not.toContain('/assets/brand.css');
    expect(plain).not.toContain('class="logo"');
    expect(plain).not.toContain('Contact support');
    const overrides = { ACCENT_COLOR: '#0B6E4F', LOGO_URL: '/logo.svg', SUPPORT_URL: 'mailto:help@example.com' };
    const branded = (await pageText('/login', overrides)).text;
    expect(branded).toContain('<link rel="stylesheet" href="/assets/brand.css"/>');
    expect(branded).toContain('<img class="logo" src="/logo.svg"');
    expect(branded).toContain('<a href="mailto:help@example.com">Contact support</a>');
    const style = await callWorker('/assets/brand.css', {}, overrides);
    expect(await style.text()).toContain('--accent:#0b6e4f');
  });

  it('shows the token tool on localhost only, unless SHOW_TOKEN_TOOL says otherwise', async () => {
    // TEST_AUTH_URL is not localhost: a production-like deployment.
    expect((await pageText('/account')).text).not.toContain('Token for your backend');
    expect((await pageText('/account', { SHOW_TOKEN_TOOL: 'true' })).text).toContain('Token for your backend');
    const local = { BETTER_AUTH_URL: 'http://localhost:8787' };
    expect((await pageText('/account', local)).text).toContain('Token for your backend');
    expect((await pageText('/account', { ...local, SHOW_TOKEN_TOOL: 'false' })).text).not.toContain(
      'Token for your backend',
    );
  });

  it('shows a skeleton and a <noscript> note while the account loads', async () => {
    const { text } = await pageText('/account');
    expect(text).toContain('data-account-loading');
    expect(text).toMatch(/<noscript>[\s\S]*needs JavaScript[\s\S]*<\/noscript>/);
  });

  it('offers "Continue as" to a browser with a session, and another account on request', async () => {
    const user = await signUp();
    const { text } = await pageText('/login', {}, { headers: { cookie: user.cookie } });
    expect(text).toContain(`Continue as ${user.name}`);
    expect(text).toContain('Use another account');
    expect(text).not.toContain('<form');
    const other = await callWorker('/login?switch=1', { headers: { cookie: user.cookie } });
    expect(await other.text()).toContain('<form method="post"');
  });

  it('confirms a sign-out and a reset, and carries the email to the reset page', async () => {
    expect((await pageText('/login?signed-out=1')).text).toContain('You are signed out.');
    expect((await pageText('/login?reset=done')).text).toContain('Your password is changed');
    const forgot = (await pageText('/forgot-password?email=ada%40example.com')).text;
    expect(forgot).toContain('value="ada@example.com"');
  });
});
