/// <reference lib="dom" />
// Passkeys and two-factor from the pages alone, in Chromium with a virtual
// authenticator (CDP WebAuthn: CTAP2, internal, resident keys, user
// verification): add a passkey on the account page, sign out, sign in with it
// through the button and through the email field's autofill; turn on TOTP
// with codes computed from the secret the page shows; sign in with a code,
// then with a backup code. No console errors, no CSP violations.
// Screenshots: test-results/screenshots/mfa-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { totpCode } from '../totp';
import { launchChromiumProfile, screenshot as saveScreenshot, testClientIp } from './chromium';

const authUrl = inject('authUrl');

const email = `mfa-${crypto.randomUUID()}@example.com`;
const password = 'a passkey person 123';

let userDataDir: string;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId = '';
let totpUri = '';
let backupCodes: string[] = [];
/** Console errors and CSP violations (reported to the console by an init script): none are expected. */
const consoleErrors: string[] = [];

function screenshot(label: string) {
  return saveScreenshot(page, `mfa-${label}`);
}

function watch(target: Page) {
  target.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      consoleErrors.push(message.text());
    }
  });
  target.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
}

/** The `amr` claim of a fresh token for the page's session, verified against the JWKS. */
async function amrOfSession(): Promise<unknown> {
  const token = await page.evaluate(async () => {
    const response = await fetch('/api/auth/token', { credentials: 'same-origin' });
    return ((await response.json()) as { token: string }).token;
  });
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${authUrl}/api/auth/jwks`)), {
    issuer: authUrl,
    audience: authUrl,
  });
  expect(payload.email).toBe(email);
  return payload.amr;
}

async function signOut() {
  await page.goto(`${authUrl}/account`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${authUrl}/login?signed-out=1`);
}

async function passwordStep() {
  // Without autofill: the virtual authenticator would answer the page's
  // passkey request at once and sign in before the password is typed.
  await page.goto(`${authUrl}/login?test-no-autofill`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

beforeAll(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'auth-worker-chromium-mfa-'));
  context = await launchChromiumProfile(userDataDir, {
    viewport: { width: 1000, height: 900 },
    extraHTTPHeaders: { 'cf-connecting-ip': testClientIp() },
  });
  // CSP violations reach the console as errors: the init script runs before
  // the page's own (and outside its CSP, as an extension would).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
    // For the button test: a browser without passkey autofill, so that the
    // button, not the autofill request, is what signs in.
    if (new URLSearchParams(location.search).has('test-no-autofill')) {
      Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable', { value: async () => false });
    }
  });
  page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  }));
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('passkeys and two-factor in a browser', () => {
  it('signs up, and the show-password button shows and hides the password', async () => {
    await page.goto(`${authUrl}/signup`);
    await page.locator('#name').fill('Passkey Person');
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    const reveal = page.getByRole('button', { name: 'Show password' });
    await reveal.click();
    expect(await page.locator('#password').getAttribute('type')).toBe('text');
    await page.getByRole('button', { name: 'Hide password' }).click();
    expect(await page.locator('#password').getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${authUrl}/account`);
    expect(await amrOfSession()).toEqual(['pwd']);
  });

  it('adds a passkey on the account page, lists it and renames it', async () => {
    await page.goto(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-passkey-list]').textContent()).toContain('No passkeys yet.');
    await page.locator('#passkey-name').fill('Virtual key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await expect.poll(() => page.locator('[data-passkey-list] li').first().textContent()).toContain('Virtual key');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: new URL(authUrl).hostname });

    await page.getByRole('button', { name: 'Rename Virtual key' }).click();
    await page.getByLabel('New name').fill('Laptop key');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-passkey-list] li').first().textContent()).toContain('Laptop key');
    await screenshot('passkey-added');
  });

  it('signs out, then signs in with the passkey through the button', async () => {
    await signOut();
    await page.goto(`${authUrl}/login?test-no-autofill`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${authUrl}/account`);
    expect(await amrOfSession()).toEqual(['hwk', 'mfa']);
    await screenshot('passkey-button-signed-in');
  });

  it('signs in with the passkey through the email field’s autofill (conditional mediation)', async () => {
    await signOut();
    await page.goto(`${authUrl}/login`);
    expect(await page.locator('#email').getAttribute('autocomplete')).toBe('username webauthn');
    // The page asks for a passkey with mediation "conditional" as it loads;
    // with a virtual authenticator Chromium answers it with the passkey
    // without showing a menu. A person would pick it from the email field's suggestions.
    await page.locator('#email').click();
    await page.waitForURL(`${authUrl}/account`, { timeout: 20_000 });
    expect(await amrOfSession()).toEqual(['hwk', 'mfa']);
  });

  it('turns on two-factor with the QR code’s secret and the first code', async () => {
    await page.goto(`${authUrl}/account`);
    await expect.poll(() => page.locator('[data-two-factor-status]').textContent()).toContain('Off');
    await page.locator('#enable-password').fill(password);
    await page.getByRole('button', { name: 'Set up two-factor' }).click();
    await expect.poll(() => page.locator('[data-totp-secret]').textContent()).toMatch(/^[A-Z2-7]+=*$/);
    const secret = (await page.locator('[data-totp-secret]').textContent()) as string;
    expect(await page.locator('[data-totp-qr] svg path').count()).toBe(1);
    backupCodes = await page.locator('[data-backup-codes] li').allTextContents();
    expect(backupCodes).toHaveLength(10);
    await screenshot('two-factor-setup');
    totpUri = `otpauth://totp/test?secret=${secret}`;
    await page.locator('#confirm-code').fill(await totpCode(totpUri));
    await page.getByRole('button', { name: 'Turn on two-factor' }).click();
    await expect.poll(() => page.locator('[data-two-factor-status]').textContent()).toContain('On');
    // Shown once: gone from the page.
    expect(await page.locator('[data-backup-codes] li').count()).toBe(0);
  });

  it('signs in with the password and then a code; the token says pwd, otp, mfa', async () => {
    await signOut();
    await passwordStep();
    await expect.poll(() => page.locator('form[data-form="two-factor"]').isVisible()).toBe(true);
    expect(await page.locator('form[data-form="sign-in"]').count()).toBe(0);
    await screenshot('two-factor-step');
    // No session yet.
    const before = await page.evaluate(async () => (await fetch('/api/auth/session')).json());
    expect(before).toBeNull();
    await page.locator('#code').fill('000000' === (await totpCode(totpUri)) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.locator('#code-error').textContent()).toContain('code is not right');
    await page.locator('#code').fill(await totpCode(totpUri));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${authUrl}/account`);
    expect(await amrOfSession()).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('signs in with the password and then a backup code, which works once', async () => {
    await signOut();
    await passwordStep();
    await expect.poll(() => page.locator('form[data-form="two-factor"]').isVisible()).toBe(true);
    // One field takes a backup code too.
    await page.locator('#code').fill(backupCodes[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${authUrl}/account`);
    expect(await amrOfSession()).toEqual(['pwd', 'otp', 'mfa']);

    await signOut();
    await passwordStep();
    await page.locator('#code').fill(backupCodes[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.locator('#code-error').textContent()).toContain('used already');
    await screenshot('backup-code-reused');
  });

  it('/.well-known/change-password leads to the account page’s password form', async () => {
    await page.locator('#code').fill(backupCodes[1] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${authUrl}/account`);
    await page.goto(`${authUrl}/.well-known/change-password`);
    await page.waitForURL(`${authUrl}/account`);
    await expect.poll(() => page.getByRole('heading', { name: 'Change your password' }).isVisible()).toBe(true);
    await page.locator('#current-password').fill(password);
    await page.locator('#new-password').fill('a brand new password 456');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect
      .poll(() => page.locator('form[data-change-password] [data-form-status]').textContent())
      .toContain('Your password is changed');
    // The session the change replaced still proves what the sign-in did.
    expect(await amrOfSession()).toEqual(['pwd', 'otp', 'mfa']);
    await screenshot('password-changed');
  });

  it('logged no console errors and no CSP violations', () => {
    expect(consoleErrors).toEqual([]);
  });
});
