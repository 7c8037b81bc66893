/// <reference lib="dom" />
// The admin page and the account page's security activity in a real browser.
// Two people, each in a browser context of their own: a user, and an admin
// granted from the command line (`npm run admin:grant`, against the same
// database as the server under test). The admin finds the user with the
// keyboard, signs out one of their sessions, bans them (the user's next page
// load signs them out, and signing in says why), lifts the ban and reads the
// audit log. Screenshots: test-results/screenshots/.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, testClientIp } from './chromium';

const authUrl = inject('authUrl');

const user = {
  email: `member-${crypto.randomUUID()}@example.com`,
  password: 'member password 123',
  name: 'Ada Member',
};
const admin = { email: `admin-${crypto.randomUUID()}@example.com`, password: 'admin password 123', name: 'Root Admin' };

let browser: Browser;
let userContext: BrowserContext;
let adminContext: BrowserContext;
let userPage: Page;
let adminPage: Page;
let userId = '';
const consoleErrors: string[] = [];

/** A private client address of its own, as the other browser tests use (local rate limits are per IP). */
async function newPerson(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1000, height: 800 },
    extraHTTPHeaders: { 'cf-connecting-ip': testClientIp() },
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    // Chromium logs every non-2xx fetch; the refused sign-in is one on purpose.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      consoleErrors.push(message.text());
    }
  });
  return { context, page };
}

/** Sign-up through the API, as any client can. */
async function signUp(person: typeof user): Promise<string> {
  const response = await fetch(`${authUrl}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: authUrl, 'cf-connecting-ip': testClientIp() },
    body: JSON.stringify(person),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { user: { id: string } }).user.id;
}

/** `npm run admin:grant -- <email>`, finding the server's database as an operator's shell would. */
async function grantAdmin(email: string): Promise<string> {
  const child = spawn('node_modules/.bin/tsx', ['scripts/admin-grant.ts', email], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number];
  expect(code, output).toBe(0);
  return output;
}

/** A sign-in from elsewhere (another client), through the API. */
async function signInElsewhere(person: typeof user): Promise<void> {
  const response = await fetch(`${authUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: authUrl, 'cf-connecting-ip': testClientIp() },
    body: JSON.stringify({ email: person.email, password: person.password }),
  });
  expect(response.status).toBe(200);
}

async function signIn(page: Page, person: typeof user) {
  await page.goto(`${authUrl}/login`);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

beforeAll(async () => {
  browser = await launchChromium();
  ({ context: userContext, page: userPage } = await newPerson());
  ({ context: adminContext, page: adminPage } = await newPerson());
  userId = await signUp(user);
  await signUp(admin);
});

afterAll(async () => {
  await userContext?.close();
  await adminContext?.close();
  await browser?.close();
});

describe('the account page and the admin page', () => {
  it('shows a user their recent security activity, ten at a time', async () => {
    // Eleven events: the sign-up, nine sign-ins elsewhere, this browser's.
    for (let count = 0; count < 9; count++) await signInElsewhere(user);
    await signIn(userPage, user);
    await userPage.waitForURL(`${authUrl}/account`);
    const activity = userPage.getByRole('list', { name: 'Recent security activity' });
    await expect.poll(() => activity.locator('li').count()).toBe(10);
    expect(await activity.locator('.event-what').first().textContent()).toBe('Signed in with email and password');
    // The older ones, from the keyboard; the reader continues at the first of them.
    await userPage.getByRole('button', { name: 'Show older activity' }).focus();
    await userPage.keyboard.press('Enter');
    await expect.poll(() => activity.locator('li').count()).toBe(11);
    expect(await userPage.evaluate(() => document.activeElement?.textContent)).toMatch(
      /^Account created with email and password/,
    );
    expect(await userPage.getByRole('button', { name: 'Show older activity' }).isVisible()).toBe(false);
    // When and from where: a time a machine can read, the browser's family, never the full address.
    expect(await activity.locator('time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await activity.locator('.event-facts').first().textContent()).toMatch(
      /^Chrome on Linux · 10\.\d+\.\d+\.0\/24$/,
    );
    expect(await userPage.getByRole('link', { name: /^Admin/ }).isVisible()).toBe(false);
    await userPage.screenshot({ path: 'test-results/screenshots/account-activity.png', fullPage: true });
  });

  it('shows someone who is not an admin only a message on /admin', async () => {
    await userPage.goto(`${authUrl}/admin`);
    const alert = userPage.locator('[data-form-error]').first();
    await expect.poll(() => alert.textContent()).toBe('This page is for admins only.');
    expect(await userPage.getByRole('heading', { name: 'Users' }).isVisible()).toBe(false);
    expect(await userPage.getByRole('heading', { name: 'Audit log' }).isVisible()).toBe(false);
  });

  it('lets an admin granted from the command line find the user with the keyboard', async () => {
    expect(await grantAdmin(admin.email)).toContain(`${admin.email} is an admin now`);
    // A fresh sign-in: roles and bans need one from the last 15 minutes.
    await signIn(adminPage, admin);
    await adminPage.waitForURL(`${authUrl}/account`);
    await expect.poll(() => adminPage.getByRole('link', { name: /^Admin/ }).isVisible()).toBe(true);
    await adminPage.getByRole('link', { name: /^Admin/ }).click();
    await adminPage.waitForURL(`${authUrl}/admin`);
    await expect.poll(() => adminPage.locator('[data-users] li').count()).toBeGreaterThan(0);

    await adminPage.keyboard.press('Tab');
    expect(await focusedId(adminPage)).toBe('search');
    await adminPage.keyboard.type(user.email);
    await adminPage.keyboard.press('Enter');
    await expect.poll(() => adminPage.locator('[data-user-count]').textContent()).toBe('Users 1–1 of 1');
    const open = adminPage.getByRole('button', { name: user.email });
    await open.focus();
    await adminPage.keyboard.press('Enter');
    // The user's panel opens with the focus on its heading.
    await expect.poll(() => focusedId(adminPage)).toBe('user-heading');
    expect(await adminPage.locator('#user-heading').textContent()).toBe(user.name);
    expect(await adminPage.locator('[data-user-id]').textContent()).toBe(userId);
    expect(await adminPage.locator('[data-user-accounts]').textContent()).toBe('Password');
    await adminPage.screenshot({ path: 'test-results/screenshots/admin-user.png', fullPage: true });
  });

  it('signs out one session of the user', async () => {
    const sessions = adminPage.locator('[data-user-sessions] li');
    // The sign-up's session, the nine elsewhere and the browser's.
    expect(await sessions.count()).toBe(11);
    await sessions
      .first()
      .getByRole('button', { name: /^Sign out the session from/ })
      .click();
    const panelStatus = adminPage.locator('[data-user-panel] [data-form-status]');
    await expect.poll(() => panelStatus.textContent()).toBe('Session signed out.');
    expect(await sessions.count()).toBe(10);
  });

  it('bans the user: their next page load signs them out, and signing in says they are banned', async () => {
    await adminPage.getByLabel('Reason (for admins; optional)').fill('Spam');
    await adminPage.getByLabel('For', { exact: true }).selectOption({ label: '1 day' });
    await adminPage.getByRole('button', { name: 'Ban and sign out everywhere' }).click();
    const panelStatus = adminPage.locator('[data-user-panel] [data-form-status]');
    await expect.poll(() => panelStatus.textContent()).toBe('Banned: every session of this user is signed out.');
    expect(await adminPage.locator('[data-user-ban]').textContent()).toMatch(/^Banned: Spam, until /);
    expect(await adminPage.locator('[data-user-sessions]').textContent()).toBe('No active sessions.');

    await userPage.goto(`${authUrl}/account`);
    await userPage.waitForURL(`${authUrl}/login?redirect=%2Faccount`);
    await signIn(userPage, user);
    await expect
      .poll(() => userPage.locator('[data-form-error]').textContent())
      .toBe('This account is banned. Contact support if you think this is a mistake.');
    await userPage.screenshot({ path: 'test-results/screenshots/login-banned.png', fullPage: true });
  });

  it('lifts the ban, and the user signs in again', async () => {
    await adminPage.getByRole('button', { name: 'Lift the ban' }).click();
    const panelStatus = adminPage.locator('[data-user-panel] [data-form-status]');
    await expect.poll(() => panelStatus.textContent()).toBe('The ban is lifted.');
    await signIn(userPage, user);
    await userPage.waitForURL(`${authUrl}/account`);
  });

  it('reads the audit log by user, with who did what, and by type', async () => {
    await adminPage.getByRole('button', { name: "Show this user's events" }).click();
    await expect.poll(() => focusedId(adminPage)).toBe('log-heading');
    const log = adminPage.getByRole('list', { name: 'Audit log' });
    await expect.poll(() => log.locator('.event-what').first().textContent()).toBe('Signed in with email and password');
    const lines = await log.locator('li').allTextContents();
    const banned = lines.find((line) => line.startsWith('Account banned'));
    expect(banned).toContain('reason: Spam');
    expect(banned).toContain(`user ${userId}`);
    expect(banned).toMatch(/by admin \S+/);
    expect(lines.some((line) => line.startsWith('Ban lifted'))).toBe(true);
    expect(lines.some((line) => line.startsWith('A session was signed out'))).toBe(true);

    await adminPage.getByLabel('Event').selectOption('user_banned');
    await adminPage.getByRole('button', { name: 'Show events' }).click();
    await expect
      .poll(async () => new Set(await log.locator('.event-what').allTextContents()))
      .toEqual(new Set(['Account banned']));
    await adminPage.screenshot({ path: 'test-results/screenshots/admin-log.png', fullPage: true });
  });

  it('fits a phone screen', async () => {
    for (const page of [adminPage, userPage]) {
      await page.setViewportSize({ width: 375, height: 740 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(overflow).toBe(false);
    }
    await adminPage.screenshot({ path: 'test-results/screenshots/admin-phone.png', fullPage: true });
  });

  it('logged no console errors (CSP violations included)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
