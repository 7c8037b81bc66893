/// <reference lib="dom" />
// A web app on another origin calls the API from the browser, as the README
// says it can: a page served from the trusted origin (TRUSTED_ORIGINS) signs
// up, reads the session, gets a token and signs out with fetch and
// `credentials: 'include'`. The same page on an origin that is not trusted is
// refused by the browser. Both pages are served here, on localhost ports: the
// same site as the auth server, so its SameSite=Lax cookie travels.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './chromium';

const authUrl = inject('authUrl');
const appOrigin = inject('appOrigin');

const APP_PAGE = '<!doctype html><title>A web app</title><p>app</p>';

function servePage(port: number): Promise<Server> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(APP_PAGE);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, 'localhost', () => resolve(server));
  });
}

let browser: Browser;
let trustedApp: Server;
let untrustedApp: Server;
let untrustedOrigin: string;

beforeAll(async () => {
  trustedApp = await servePage(Number(new URL(appOrigin).port));
  untrustedApp = await servePage(0);
  untrustedOrigin = `http://localhost:${(untrustedApp.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => trustedApp?.close(resolve));
  await new Promise((resolve) => untrustedApp?.close(resolve));
});

/** What the app's own script does, run in its page. */
function appFlow(input: { authUrl: string; email: string }) {
  const call = async (path: string, body?: unknown) => {
    const response = await fetch(`${input.authUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      credentials: 'include',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  return (async () => {
    const signUp = await call('/api/auth/sign-up/email', {
      email: input.email,
      password: 'a password for the app',
      name: 'App User',
    });
    const session = await call('/api/auth/session');
    const token = await call('/api/auth/token');
    const signOut = await call('/api/auth/sign-out', {});
    const after = await call('/api/auth/session');
    return { signUp, session, token, signOut, after };
  })();
}

describe('a web app on a trusted origin', () => {
  it('signs up, reads the session, gets a token and signs out with credentials: include', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${appOrigin}/`);
    const email = `cors-${crypto.randomUUID()}@example.com`;

    const result = await page.evaluate(appFlow, { authUrl, email });

    expect(result.signUp.status).toBe(200);
    expect(result.session).toMatchObject({ status: 200, body: { user: { email } } });
    expect(result.token.status).toBe(200);
    expect(result.token.body.token.split('.')).toHaveLength(3);
    expect(result.signOut.status).toBe(200);
    expect(result.after).toEqual({ status: 200, body: null });
    await context.close();
  });
});

describe('the same page on an origin that is not trusted', () => {
  it('cannot read any answer: the browser refuses the call', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${untrustedOrigin}/`);
    const email = `cors-refused-${crypto.randomUUID()}@example.com`;

    const outcome = await page.evaluate(appFlow, { authUrl, email }).then(
      () => 'answered',
      (error: Error) => error.message,
    );

    expect(outcome).toContain('Failed to fetch');
    // Nor did the refused preflight let the sign-up through.
    const check = await fetch(`${authUrl}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: authUrl },
      body: JSON.stringify({ email, password: 'a password for the app' }),
    });
    expect(check.status).toBe(401);
    await context.close();
  });
});
