import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { expect, inject } from 'vitest';
import { NO_REQUEST } from '../src/audit/events';
import { createAuditLog } from '../src/audit/log';
import { authOptions, createAuth } from '../src/auth';
import { readConfig } from '../src/config';
import { createDb } from '../src/db/client';
import { account, auditEvent, session, user, verification } from '../src/db/schema';
import { app } from '../src/index';
import { keySourceFor } from '../src/jwt/keys';
import { TEST_AUTH_URL } from './setup/constants';
import type { DatabaseFault } from './setup/fault-proxies';

export { TEST_AUTH_URL };

/** Variables to set or unset, or a binding to replace (an outage of a platform binding). */
export type EnvOverrides = { [Name in keyof Env]?: string | Env[Name] | undefined };

/**
 * Calls the Worker's fetch handler inside workerd, as the runtime would, and
 * waits for its waitUntil work (closing the database pool). Requests carry
 * the Worker's own Origin, as a same-origin browser page would send; pass
 * `origin: ''` to send none, as a server or mobile app would.
 */
export function callWorker(path: string, init: RequestInit = {}, overrides: EnvOverrides = {}): Promise<Response> {
  return callApp(app, path, init, overrides);
}

/** Like callWorker, for a separately created instance of the app. */
export async function callApp(
  instance: { fetch: typeof app.fetch },
  path: string,
  init: RequestInit = {},
  overrides: EnvOverrides = {},
): Promise<Response> {
  const { response, background } = await startApp(instance, path, init, overrides);
  await background;
  return response;
}

/**
 * Like callWorker, but answers as soon as the response is ready: `background`
 * settles when the request's waitUntil work has, for tests about what a
 * request does not wait for. Await it before the test ends.
 */
export function startWorker(path: string, init: RequestInit = {}, overrides: EnvOverrides = {}) {
  return startApp(app, path, init, overrides);
}

async function startApp(
  instance: { fetch: typeof app.fetch },
  path: string,
  init: RequestInit,
  overrides: EnvOverrides,
): Promise<{ response: Response; background: Promise<void> }> {
  const headers = new Headers(init.headers);
  if (!headers.has('origin')) headers.set('origin', TEST_AUTH_URL);
  if (headers.get('origin') === '') headers.delete('origin');
  // Each request from its own client unless a test says otherwise, so per-IP
  // rate limits only bite in the tests about them.
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', randomIp());
  const request = new Request(`${TEST_AUTH_URL}${path}`, { ...init, headers });
  const ctx = createExecutionContext();
  const response = await instance.fetch(request, { ...env, ...overrides } as Env, ctx);
  return { response, background: waitOnExecutionContext(ctx) };
}

async function routeSwitchableDatabase(destination: DatabaseFault | 'database'): Promise<void> {
  const response = await fetch(`${inject('switchableDatabase').control}/route`, { method: 'PUT', body: destination });
  if (response.status !== 204) throw new Error(`switchable database route: ${await response.text()}`);
}

/**
 * Runs `work` while new connections to inject('switchableDatabase').url meet
 * `fault` (test/setup/fault-proxies.ts): the database an isolate already read
 * from fails under the same DATABASE_URL. They reach the database again
 * afterwards, whatever happens.
 */
export async function withDatabaseFault<T>(fault: DatabaseFault, work: () => Promise<T>): Promise<T> {
  await routeSwitchableDatabase(fault);
  try {
    return await work();
  } finally {
    await routeSwitchableDatabase('database');
  }
}

export function postJson(path: string, body: unknown, headers: HeadersInit = {}, overrides?: EnvOverrides) {
  return callWorker(
    path,
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    overrides,
  );
}

/** `name=value` pairs of the Set-Cookie headers, ready for a Cookie header. */
export function cookiesFrom(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

/** The `name=value` of the first Set-Cookie whose pair matches `pattern`. */
export function setCookieMatching(response: Response, pattern: RegExp): string | undefined {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0] as string)
    .find((pair) => pattern.test(pair));
}

/** A live session cookie in an answer, if it set one (a cleared cookie has no value). */
export function sessionCookieIn(response: Response): string | undefined {
  return setCookieMatching(response, /better-auth\.session_token=./);
}

export function randomIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${crypto.randomUUID()}@example.com`;
}

export interface TestUser {
  email: string;
  password: string;
  name: string;
  id: string;
  /** The Cookie header of the session created at sign-up. */
  cookie: string;
  /** The session token, for Authorization: Bearer. */
  sessionToken: string;
}

export async function signUp(overrides: EnvOverrides = {}): Promise<TestUser> {
  const email = uniqueEmail();
  const password = 'correct horse battery staple';
  const name = 'Ada Lovelace';
  const response = await postJson('/api/auth/sign-up/email', { email, password, name }, {}, overrides);
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { token: string; user: { id: string } };
  return { email, password, name, id: body.user.id, cookie: cookiesFrom(response), sessionToken: body.token };
}

/** Reads the real database the Worker uses, through the same driver path. */
export async function withDb<T>(work: (db: ReturnType<typeof createDb>['db']) => Promise<T>): Promise<T> {
  const { db, close } = createDb(readConfig(env).database);
  try {
    return await work(db);
  } finally {
    await close();
  }
}

export function countUsersWithEmail(email: string): Promise<number> {
  return withDb(async (db) => {
    const [row] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(user)
      .where(eq(sql`lower(${user.email})`, email.trim().toLowerCase()));
    return row?.count ?? 0;
  });
}

/**
 * Row counts and latest updates of every table a request writes (Better
 * Auth's and the audit log): equal before and after a request means the
 * request wrote nothing. Valid while test files run one at a time
 * (vitest.config.ts).
 */
export function databaseFingerprint(): Promise<string> {
  return withDb(async (db) => {
    const parts = await Promise.all(
      [user, session, account, verification].map((table) =>
        db.select({ rows: sql<number>`count(*)::int`, latest: sql<string>`max(${table.updatedAt})::text` }).from(table),
      ),
    );
    const audit = await db
      .select({ rows: sql<number>`count(*)::int`, latest: sql<string>`max(${auditEvent.id})::text` })
      .from(auditEvent);
    return JSON.stringify([...parts, audit]);
  });
}

/** A fresh JWT for the user's cookie session, as a client would get it. */
export async function tokenFor(user: TestUser, overrides: EnvOverrides = {}): Promise<string> {
  const response = await callWorker('/api/auth/token', { headers: { cookie: user.cookie } }, overrides);
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return ((await response.json()) as { token: string }).token;
}

export async function fetchJwks(path = '/api/auth/jwks', overrides: EnvOverrides = {}) {
  const response = await callWorker(path, {}, overrides);
  expect(response.status).toBe(200);
  return { response, jwks: (await response.json()) as JSONWebKeySet };
}

/** Verifies as a backend would: a JWKS, a pinned issuer and audience, our algorithms. */
export function verifyWithJwks(jwks: JSONWebKeySet, token: string, audience = TEST_AUTH_URL) {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: TEST_AUTH_URL,
    audience,
    algorithms: ['EdDSA', 'RS256'],
  });
}

/**
 * The Better Auth instance a request with these bindings would get, for tests
 * that walk its endpoint list (what this configuration and these plugins
 * serve). It sends no email and records no events.
 */
export function betterAuthFor(overrides: EnvOverrides = {}) {
  return createAuth(...authArgumentsFor(overrides));
}

/** The options betterAuthFor's instance is built from. */
export function betterAuthOptionsFor(overrides: EnvOverrides = {}) {
  return authOptions(...authArgumentsFor(overrides));
}

function authArgumentsFor(overrides: EnvOverrides) {
  const config = readConfig({ ...env, ...overrides } as Env);
  const { db } = createDb(config.database);
  return [config, db, keySourceFor(config, { waitUntil: () => {} }), () => {}, createAuditLog(db, NO_REQUEST)] as const;
}
