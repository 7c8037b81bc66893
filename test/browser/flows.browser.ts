/// <reference lib="dom" />
// The pages in a real browser: sign up, verify the email from the dev mailer's
// link (read from the dev server's output), sign out, a wrong password, sign
// in, the account page, a token, a password reset. Steps run in order in one
// browser context, like a person would. Screenshots: test-results/screenshots/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromiumProfile, screenshot as saveScreenshot, testClientIp } from './chromium';
import { mailedLink } from './dev-mailer';

const authUrl = inject('authUrl');
const appName = inject('appName');
const devServerLog = inject('devServerLog');

const email = `browser-${crypto.randomUUID()}@example.com`;
const name = 'Grace Hopper';
const password = 'first password 123';
const newPassword = 'second password 456';

let userDataDir: string;
let context: BrowserContext;
let page: Page;
/**
 * Console errors, CSP violations included: none are expected. Chromium also
 * logs every non-2xx fetch ("Failed to load resource"), which the wrong
 * password and the favicon cause on purpose; those are left out.
 */
const consoleErrors: string[] = [];

function screenshot(label: string) {
  return saveScreenshot(page, label);
}

async function signIn(withPassword: string) {
  await page.goto(`${authUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(withPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

beforeAll(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'auth-worker-chromium-'));
  // A fresh profile per run.
  context = await launchChromiumProfile(userDataDir, {
    viewport: { width: 1000, height: 800 },
    extraHTTPHeaders: { 'cf-connecting-ip': testClientIp() },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: authUrl });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      consoleErrors.push(message.text());
    }
  });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('in a browser', () => {
  it('shows field errors tied to their inputs when the login form is sent empty', async () => {
    await page.goto(`${authUrl}/login`);
    await screenshot('login');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const emailInput = page.getByLabel('Email');
    await expect.poll(() => emailInput.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#email-error').textContent()).toBe('Enter your email.');
    expect(await page.locator('#password-error').textContent()).toBe('Enter your password.');
    // The first invalid field has the focus, and its error is its description.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    expect(await emailInput.getAttribute('aria-describedby')).toContain('email-error');
    await screenshot('login-empty');
  });

  it('signs up and lands on the account page, unverified', async () => {
    await page.goto(`${authUrl}/signup`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await screenshot('signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-user-email]').textContent()).toBe(email);
    expect(await page.locator('[data-user-verified]').textContent()).toBe('not verified');
    await screenshot('account-unverified');
  });

  it('verifies the email with the link from the dev mailer', async () => {
    const link = await mailedLink(devServerLog, email, `Verify your email for ${appName}`);
    expect(link.startsWith(`${authUrl}/verify-email?token=`)).toBe(true);
    await page.goto(link);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Thank you: your email is verified.');
    expect(page.url()).toBe(`${authUrl}/verify-email`);
    await screenshot('verify-email');
    await page.goto(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-user-verified]').textContent()).toBe('verified');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${authUrl}/login?signed-out=1`);
    expect(await page.getByRole('status').textContent()).toBe('You are signed out.');
    // The account page now sends the browser to sign in.
    await page.goto(`${authUrl}/account`);
    await page.waitForURL(`${authUrl}/login?redirect=%2Faccount`);
  });

  it('shows a readable error for a wrong password, using the keyboard only', async () => {
    await page.goto(`${authUrl}/login`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    const error = page.locator('#password-error');
    await expect.poll(() => error.textContent()).toBe('That email and password do not match an account.');
    expect(await error.isVisible()).toBe(true);
    // The focus moves to the password, selected for retyping; its error is its description.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.evaluate(() => {
        const input = document.activeElement as HTMLInputElement;
        return input.selectionStart === 0 && input.selectionEnd === input.value.length && input.value.length > 0;
      }),
    ).toBe(true);
    expect(page.url()).toBe(`${authUrl}/login`);
    await screenshot('login-wrong-password');
  });

  it('signs in, sees the account page and gets a token a backend verifies', async () => {
    await signIn(password);
    await page.waitForURL(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-user-name]').textContent()).toBe(name);
    await expect.poll(() => page.locator('[data-sessions] li').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-sessions]').textContent()).toMatch(/Chrome on Linux · signed in .* · this device/);
    await page.getByRole('button', { name: 'Get a fresh token' }).click();
    const tokenBox = page.getByLabel('Token', { exact: true });
    await expect.poll(() => tokenBox.inputValue()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const token = await tokenBox.inputValue();
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${authUrl}/api/auth/jwks`)), {
      issuer: authUrl,
      audience: authUrl,
    });
    expect(payload).toMatchObject({ email, name, emailVerified: true });
    const copy = page.getByRole('button', { name: 'Copy' });
    await copy.click();
    // Confirmed in place, in a live region, with the focus left on the button.
    await expect.poll(() => page.locator('[data-copied]').textContent()).toBe('Copied');
    expect(await page.locator('[data-copied]').getAttribute('aria-live')).toBe('polite');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action)).toBe(
      'copy-token',
    );
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await screenshot('account-token');
  });

  it('resets the password from the emailed link and signs in with the new one', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${authUrl}/login?signed-out=1`);
    // The email typed on /login goes along to the reset page.
    await page.getByLabel('Email').fill(email);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(`${authUrl}/forgot-password?email=${encodeURIComponent(email)}`);
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your email');
    expect(await page.getByRole('status').textContent()).toContain('we sent it a link');
    expect(await page.locator('form[data-form="forgot-password"]').isVisible()).toBe(false);
    await screenshot('forgot-password');

    const link = await mailedLink(devServerLog, email, `Reset your ${appName} password`);
    expect(link.startsWith(`${authUrl}/reset-password?token=`)).toBe(true);
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password again').fill('something else entirely');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.locator('#confirm-error').textContent()).toBe('The two passwords are not the same.');
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(`${authUrl}/login?reset=done`);
    expect(await page.getByRole('status').textContent()).toContain('Your password is changed');
    await screenshot('reset-password');

    await signIn(password);
    await expect
      .poll(() => page.locator('#password-error').textContent())
      .toBe('That email and password do not match an account.');
    await signIn(newPassword);
    await page.waitForURL(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-user-email]').textContent()).toBe(email);
  });

  it('follows a relative redirect after sign-in and refuses //evil.com', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${authUrl}/login?signed-out=1`);
    await page.goto(`${authUrl}/login?redirect=${encodeURIComponent('//evil.com/steal')}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${authUrl}/account`);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${authUrl}/login`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    await screenshot('login-phone');
  });

  it('logged no console errors (CSP violations included)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
