import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, screenshot, testClientIp } from './chromium';
import { mailedLink } from './dev-mailer';

const authUrl = inject('authUrl');
const appName = inject('appName');
const devServerLog = inject('devServerLog');

const password = 'a password for pages 123';
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** Where the forms post; their 4xx answers are pages with errors, on purpose. */
const FORM_PATHS = new Set(['/login', '/signup', '/forgot-password', '/reset-password']);

let browser: Browser;
const contexts: BrowserContext[] = [];
/** Console errors (CSP violations among them) and failed loads outside /api/: none are expected. */
const problems: string[] = [];

const uniqueEmail = (label: string) => `pages-${label}-${crypto.randomUUID()}@example.com`;

async function newPage(options: { javaScript?: boolean; scheme?: 'light' | 'dark'; phone?: boolean } = {}) {
  const context = await browser.newContext({
    javaScriptEnabled: options.javaScript ?? true,
    colorScheme: options.scheme ?? 'light',
    viewport: options.phone ? { width: 375, height: 740 } : { width: 1000, height: 800 },
    // Each context its own client address, so the per-IP limits of one test do not reach another.
    extraHTTPHeaders: { 'cf-connecting-ip': testClientIp() },
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location().url ?? '';
    // Chromium logs each refused API call and each form post answered with the page
    // and its errors ("Failed to load resource"): the tests cause those on purpose.
    // A failed GET of anything else is caught below.
    const path = new URL(where, authUrl).pathname;
    if (message.text().startsWith('Failed to load resource') && (path.startsWith('/api/') || FORM_PATHS.has(path))) {
      return;
    }
    problems.push(`${message.text()} (${where})`);
  });
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (response.status() >= 400 && !path.startsWith('/api/') && response.request().method() === 'GET') {
      problems.push(`${response.status()} ${path}`);
    }
  });
  return page;
}

/** An account made through the API, as another client would. */
async function apiSignUp(email: string): Promise<void> {
  const response = await fetch(`${authUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: authUrl, 'cf-connecting-ip': testClientIp() },
    body: JSON.stringify({ email, password, name: 'Ada Lovelace' }),
  });
  expect(response.status).toBe(200);
}

/** Another session of the account, from "Firefox on Windows". */
async function apiSignIn(email: string): Promise<void> {
  const response = await fetch(`${authUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: authUrl,
      'cf-connecting-ip': testClientIp(),
      'user-agent': FIREFOX_ON_WINDOWS,
    },
    body: JSON.stringify({ email, password }),
  });
  expect(response.status).toBe(200);
}

async function signInThroughPage(page: Page, email: string, withPassword = password) {
  await page.goto(`${authUrl}/login?switch=1`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(withPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** WCAG contrast of two computed CSS colours (rgb()/rgba(), opaque). */
function contrastInPage(page: Page, selector: string, property: 'color' | 'border-top-color') {
  return page.evaluate(
    ([selector, property]) => {
      const parse = (value: string) => (value.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const luminance = (rgb: number[]) => {
        const [r = 0, g = 0, b = 0] = rgb.map((v) => {
          const c = v / 255;
          return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const element = document.querySelector(selector) as HTMLElement;
      const style = getComputedStyle(element);
      // The background behind it: the nearest ancestor (or itself) with an opaque one.
      let background = 'rgb(255, 255, 255)';
      for (let node: HTMLElement | null = property === 'color' ? element : element.parentElement; node; ) {
        const value = getComputedStyle(node).backgroundColor;
        if (!value.startsWith('rgba(0, 0, 0, 0)') && value !== 'transparent') {
          background = value;
          break;
        }
        node = node.parentElement;
      }
      const [a, b] = [luminance(parse(style.getPropertyValue(property))), luminance(parse(background))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    },
    [selector, property] as const,
  );
}

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
});

describe('with JavaScript off', () => {
  it('signs up, signs in, never puts the password in a URL, and says what went wrong beside the field', async () => {
    const page = await newPage({ javaScript: false });
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    const email = uniqueEmail('nojs');

    await page.goto(`${authUrl}/signup`);
    await page.getByLabel('Name').fill('Grace Hopper');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${authUrl}/account`);
    // The account page needs the script, and says so.
    // (Read as markup: Playwright's locators do not find <noscript> content
    // reliably with scripts turned off this way; the screenshot shows it.)
    expect(await page.locator('noscript').innerHTML()).toContain('This page needs JavaScript');
    await screenshot(page, 'nojs-account');

    // Regression: Enter on the login form without the script sent GET /login?email=…&password=….
    await page.goto(`${authUrl}/login?switch=1`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByLabel('Password').press('Enter');
    await expect
      .poll(() => page.locator('#password-error').textContent())
      .toBe('That email and password do not match an account.');
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    await screenshot(page, 'nojs-login-wrong-password');

    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(`${authUrl}/account`);
    for (const url of urls) {
      expect(url).not.toContain(encodeURIComponent(password));
      expect(url).not.toContain('not%20the%20password');
      expect(url).not.toContain('not+the+password');
    }
  });

  it('sends the reset link and resets the password', async () => {
    const page = await newPage({ javaScript: false });
    const email = uniqueEmail('nojs-reset');
    await apiSignUp(email);
    await page.goto(`${authUrl}/forgot-password`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your email');
    expect(await page.getByRole('status').textContent()).toContain(email);
    await screenshot(page, 'nojs-check-email');

    const link = await mailedLink(devServerLog, email, `Reset your ${appName} password`);
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('the new password 789');
    await page.getByLabel('New password again').fill('something else');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.locator('#confirm-error').textContent()).toBe('The two passwords are not the same.');
    expect(page.url()).toBe(`${authUrl}/reset-password`);
    await page.getByLabel('New password', { exact: true }).fill('the new password 789');
    await page.getByLabel('New password again').fill('the new password 789');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(`${authUrl}/login?reset=done`);
    expect(await page.getByRole('status').textContent()).toContain('Your password is changed');

    // The used link now offers a new one.
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('yet another password 1');
    await page.getByLabel('New password again').fill('yet another password 1');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This link is invalid');
    expect(await page.getByRole('link', { name: 'Ask for a new link' }).isVisible()).toBe(true);

    await signInThroughPage(page, email, 'the new password 789');
    await page.waitForURL(`${authUrl}/account`);
  });
});

describe('with JavaScript', () => {
  it('names the app from APP_NAME, serves its icon, and offers "Continue as" to a signed-in browser', async () => {
    const page = await newPage();
    await page.goto(`${authUrl}/login`);
    expect(await page.title()).toBe(`Sign in to ${appName}`);
    expect(await page.locator('h1').textContent()).toBe(`Sign in to ${appName}`);
    const icon = await page.request.get(`${authUrl}/favicon.ico`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toBe('image/svg+xml');

    const email = uniqueEmail('continue');
    await apiSignUp(email);
    await signInThroughPage(page, email);
    await page.waitForURL(`${authUrl}/account`);
    await page.goto(`${authUrl}/login`);
    expect(await page.getByRole('link', { name: 'Continue as Ada Lovelace' }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Use another account' }).click();
    expect(await page.getByLabel('Email').isVisible()).toBe(true);
  });

  it('says what it is doing while signing in, readable, and cannot be sent twice', async () => {
    const page = await newPage();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/auth/sign-in/email', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${authUrl}/login`);
    await page.getByLabel('Email').fill(uniqueEmail('busy'));
    await page.getByLabel('Password').fill('whatever it is 1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const button = page.locator('form button[type=submit]');
    await expect.poll(() => button.textContent()).toBe('Signing in…');
    expect(await button.isDisabled()).toBe(true);
    expect(await contrastInPage(page, 'form button[type=submit]', 'color')).toBeGreaterThanOrEqual(4.5);
    await screenshot(page, 'login-busy');
    release();
    await expect.poll(() => button.textContent()).toBe('Sign in');
    expect(await button.isDisabled()).toBe(false);
  });

  it('offers "Sign in instead", with the email, for an address that has an account', async () => {
    const page = await newPage();
    const email = uniqueEmail('taken');
    await apiSignUp(email);
    await page.goto(`${authUrl}/signup`);
    await page.getByLabel('Name').fill('Someone Else');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.locator('#email-error').textContent())
      .toBe('An account with this email already exists.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    await screenshot(page, 'signup-taken');
    await page.getByRole('link', { name: 'Sign in instead' }).click();
    await page.waitForURL(/\/login\?email=/);
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
  });

  it('says when to try again after a rate limit, from Retry-After', async () => {
    const page = await newPage();
    await page.route('**/api/auth/sign-in/email', (route) =>
      route.fulfill({
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '900' },
        body: JSON.stringify({ code: 'RATE_LIMITED', message: 'Too many requests.' }),
      }),
    );
    await page.goto(`${authUrl}/login`);
    await page.getByLabel('Email').fill(uniqueEmail('limited'));
    await page.getByLabel('Password').fill('whatever it is 1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect
      .poll(() => page.locator('[data-form-error]').textContent())
      .toBe('Too many attempts. Try again in about 15 minutes.');
    await screenshot(page, 'login-rate-limited');
  });

  it('clears a provider error from ?error= on the next attempt', async () => {
    const page = await newPage();
    await page.goto(`${authUrl}/login?error=access_denied`);
    expect(await page.getByText('Sign-in was cancelled at the provider.').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.locator('#email-error').textContent()).toBe('Enter your email.');
    expect(await page.getByText('Sign-in was cancelled at the provider.').count()).toBe(0);
  });

  it('asks for a new link when a reset link is dead', async () => {
    const page = await newPage();
    await page.goto(`${authUrl}/reset-password?token=not-a-real-token`);
    await page.getByLabel('New password', { exact: true }).fill('the new password 789');
    await page.getByLabel('New password again').fill('the new password 789');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.locator('[data-form-error]').textContent()).toContain('This link is invalid');
    await page.getByRole('link', { name: 'Ask for a new link' }).click();
    await page.waitForURL(`${authUrl}/forgot-password`);
  });

  it('lists sessions by device, signs one out, and refreshes after "Sign out everywhere else"', async () => {
    const page = await newPage();
    const email = uniqueEmail('sessions');
    await page.goto(`${authUrl}/signup`);
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${authUrl}/account`);
    // Unverified: a warning-coloured badge and where the link went.
    const badge = page.locator('[data-user-verified]');
    await expect.poll(() => badge.textContent()).toBe('not verified');
    expect(await badge.getAttribute('class')).toContain('warning');
    expect(await page.locator('[data-unverified-text]').textContent()).toBe(
      `We sent a link to ${email}. Open it to verify your email.`,
    );

    await apiSignIn(email);
    await apiSignIn(email);
    await page.reload();
    const items = page.locator('[data-sessions] li');
    await expect.poll(() => items.count()).toBe(3);
    expect(await items.nth(0).textContent()).toMatch(/^Chrome on Linux · signed in .+ · this device$/);
    expect(await items.nth(1).textContent()).toMatch(/^Firefox on Windows · signed in .+Sign out$/);
    await screenshot(page, 'account-sessions');

    await items
      .nth(1)
      .getByRole('button', { name: /^Sign out Firefox on Windows/ })
      .click();
    await expect.poll(() => items.count()).toBe(2);
    expect(await page.getByRole('status').first().textContent()).toBe('That session is signed out.');

    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.nth(0).textContent()).toContain('this device');
  });
});

describe('at phone width', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`fits and keeps input borders at 3:1 in the ${scheme} theme`, async () => {
      const page = await newPage({ scheme, phone: true });
      for (const path of ['/login', '/signup', '/forgot-password', '/reset-password?token=abc']) {
        await page.goto(`${authUrl}${path}`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
        expect(await contrastInPage(page, 'input:not([type=hidden])', 'border-top-color')).toBeGreaterThanOrEqual(3);
        expect(await contrastInPage(page, 'h1', 'color')).toBeGreaterThanOrEqual(4.5);
        expect(await contrastInPage(page, 'form button[type=submit]', 'color')).toBeGreaterThanOrEqual(4.5);
        const name = path.slice(1).split('?')[0];
        await screenshot(page, `phone-${scheme}-${name}`);
      }
      await page.goto(`${authUrl}/login?error=access_denied`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await screenshot(page, `phone-${scheme}-login-errors`);

      const email = uniqueEmail(`phone-${scheme}`);
      await apiSignUp(email);
      await apiSignIn(email);
      await signInThroughPage(page, email);
      await page.waitForURL(`${authUrl}/account`);
      await expect.poll(() => page.locator('[data-sessions] li').count()).toBe(3);
      expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
      await screenshot(page, `phone-${scheme}-account`);
    });
  }
});

describe('the whole run', () => {
  it('logged no console errors, CSP violations or failed page loads (the favicon included)', () => {
    expect(problems).toEqual([]);
  });
});
