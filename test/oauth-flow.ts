import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { account, session, user } from '../src/db/schema';
import { type FakeProviders, type FakeUser, installFakeProviders } from './fakes/oauth-providers';
import { callWorker, cookiesFrom, type EnvOverrides, TEST_AUTH_URL, uniqueEmail, withDb } from './helpers';

/** The web app that signs users in through the Worker; trusted in these tests. */
export const APP_ORIGIN = 'https://app.test';

/** The browser follows a sign-in link: GET /api/auth/sign-in/:provider. */
export async function startSignIn(provider: string, query: Record<string, string>, env: EnvOverrides) {
  const search = new URLSearchParams(query).toString();
  const response = await callWorker(`/api/auth/sign-in/${provider}${search ? `?${search}` : ''}`, {}, env);
  return { response, authorizationUrl: response.headers.get('location') ?? '', cookie: cookiesFrom(response) };
}

/** The browser arrives at a Worker URL the provider redirected it to, with its cookies. */
export function arriveAt(url: string, cookie: string, env: EnvOverrides): Promise<Response> {
  const target = new URL(url);
  expect(target.origin).toBe(TEST_AUTH_URL);
  return callWorker(`${target.pathname}${target.search}`, cookie ? { headers: { cookie } } : {}, env);
}

/** The session cookie a response sets, if any (an expired, empty one does not count). */
export function sessionCookieFrom(response: Response): string | undefined {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0] ?? '')
    .find((pair) => /^__Secure-better-auth\.session_token=./.test(pair));
}

/** Where a redirect goes, and the error code it carries if it is an error redirect. */
export function redirectOf(response: Response): { url: URL; error: string | null } {
  expect(response.status).toBe(302);
  const url = new URL(response.headers.get('location') ?? '', TEST_AUTH_URL);
  return { url, error: url.searchParams.get('error') };
}

export async function sessionUser(cookie: string) {
  const response = await callWorker('/api/auth/session', { headers: { cookie } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { user: { id: string; email: string; name: string; emailVerified: boolean } };
  return body.user;
}

/** The users, accounts and sessions stored for an email, read from the real database. */
export function storedIdentity(email: string) {
  return withDb(async (db) => {
    const users = await db.select().from(user).where(eq(user.email, email));
    const [found] = users;
    if (!found) return { users, accounts: [], sessions: [] };
    const accounts = await db.select().from(account).where(eq(account.userId, found.id));
    const sessions = await db.select().from(session).where(eq(session.userId, found.id));
    return { users, accounts, sessions };
  });
}

export type ProviderId = 'google' | 'github' | 'discord';

/** Someone with an account at the provider; its email verified unless said otherwise. */
export function providerUser(overrides: Partial<FakeUser> = {}, label = 'oauth', name = 'Katherine Johnson'): FakeUser {
  return {
    id: String(100_000_000 + Math.floor(Math.random() * 900_000_000)),
    email: uniqueEmail(label),
    emailVerified: true,
    name,
    ...overrides,
  };
}

/** A whole sign-in as a browser does it: the link, the provider's consent screen, the callback. */
export async function signInWith(
  providers: FakeProviders,
  env: EnvOverrides,
  provider: ProviderId,
  person: FakeUser,
  query: Record<string, string> = {},
) {
  const start = await startSignIn(provider, { callbackURL: `${APP_ORIGIN}/home`, ...query }, env);
  expect(start.response.status).toBe(302);
  const providerRedirect = providers[provider].approve(start.authorizationUrl, person);
  const callback = await arriveAt(providerRedirect, start.cookie, env);
  return { start, providerRedirect, callback, cookie: sessionCookieFrom(callback), error: redirectOf(callback).error };
}

/** The provider fakes, and the Worker configured for all three with the web app's origin trusted. */
export async function installAppProviders(): Promise<{ providers: FakeProviders; env: EnvOverrides }> {
  const providers = await installFakeProviders();
  return { providers, env: { ...providers.env, TRUSTED_ORIGINS: APP_ORIGIN } };
}
