import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeChallengeFor, type FakeProviders, type FakeUser } from './fakes/oauth-providers';
import { callWorker, type EnvOverrides, postJson, signUp, TEST_AUTH_URL, uniqueEmail } from './helpers';
import {
  APP_ORIGIN,
  arriveAt,
  installAppProviders,
  type ProviderId,
  providerUser,
  redirectOf,
  sessionCookieFrom,
  sessionUser,
  signInWith as signInWithProvider,
  startSignIn,
  storedIdentity,
} from './oauth-flow';

let providers: FakeProviders;
let env: EnvOverrides;

beforeEach(async () => {
  ({ providers: providers, env: env } = await installAppProviders());
});
afterEach(() => providers.restore());

const newUser = (overrides: Partial<FakeUser> = {}) => providerUser(overrides);
const signInWith = (provider: ProviderId, person: FakeUser, query: Record<string, string> = {}) =>
  signInWithProvider(providers, env, provider, person, query);

describe('Sign in with Google', () => {
  it('redirects to Google with state, PKCE S256, the scopes and our callback, then signs in at the callback', async () => {
    const person = newUser();
    const start = await startSignIn(
      'google',
      { callbackURL: `${APP_ORIGIN}/home`, newUserCallbackURL: `${APP_ORIGIN}/welcome` },
      env,
    );
    expect(start.response.status).toBe(302);
    expect(start.response.headers.get('cache-control')).toBe('no-store');
    const authorization = new URL(start.authorizationUrl);
    expect(`${authorization.origin}${authorization.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    const params = authorization.searchParams;
    expect(params.get('client_id')).toBe(providers.google.clientId);
    expect(params.get('redirect_uri')).toBe(`${TEST_AUTH_URL}/api/auth/callback/google`);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(params.get('state')).toMatch(/^[\w-]{32,}$/);
    expect(params.get('scope')?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    const stateCookie = start.response.headers.getSetCookie().find((cookie) => cookie.includes('better-auth.state='));
    expect(stateCookie).toMatch(/^__Secure-better-auth\.state=.+; Max-Age=300;.*HttpOnly.*SameSite=Lax/i);

    const providerRedirect = providers.google.approve(start.authorizationUrl, person);
    const callback = await arriveAt(providerRedirect, start.cookie, env);

    expect(redirectOf(callback)).toEqual({ url: new URL(`${APP_ORIGIN}/welcome`), error: null });
    const cookie = sessionCookieFrom(callback);
    expect(cookie).toBeDefined();

    // What the Worker sent Google's token endpoint.
    expect(providers.google.rejections).toEqual([]);
    expect(providers.google.tokenRequests).toHaveLength(1);
    const sent = Object.fromEntries(providers.google.tokenRequests[0] ?? []);
    expect(sent).toEqual({
      grant_type: 'authorization_code',
      code: new URL(providerRedirect).searchParams.get('code'),
      code_verifier: expect.stringMatching(/^[\w-]{43,128}$/),
      client_id: providers.google.clientId,
      client_secret: providers.google.clientSecret,
      redirect_uri: `${TEST_AUTH_URL}/api/auth/callback/google`,
    });
    expect(await codeChallengeFor(sent.code_verifier ?? '')).toBe(params.get('code_challenge'));
    // The id_token was checked against Google's published keys.
    expect(providers.google.hits.get('certs')).toBe(1);

    expect(await sessionUser(cookie ?? '')).toMatchObject({
      email: person.email,
      name: person.name,
      emailVerified: true,
    });
    const stored = await storedIdentity(person.email);
    expect(stored.users).toHaveLength(1);
    expect(stored.sessions).toHaveLength(1);
    expect(stored.accounts).toMatchObject([{ providerId: 'google', accountId: person.id }]);
  });

  it('signs a returning user into the same user, sent to callbackURL rather than newUserCallbackURL', async () => {
    const person = newUser();
    const query = { newUserCallbackURL: `${APP_ORIGIN}/welcome` };
    const first = await signInWith('google', person, query);
    expect(redirectOf(first.callback).url.pathname).toBe('/welcome');

    const second = await signInWith('google', person, query);

    expect(redirectOf(second.callback)).toEqual({ url: new URL(`${APP_ORIGIN}/home`), error: null });
    expect((await sessionUser(second.cookie ?? '')).id).toBe((await sessionUser(first.cookie ?? '')).id);
    const stored = await storedIdentity(person.email);
    expect(stored.users).toHaveLength(1);
    expect(stored.accounts).toHaveLength(1);
    expect(stored.sessions).toHaveLength(2);
  });

  it('keeps provider tokens encrypted at rest', async () => {
    const person = newUser();
    await signInWith('google', person);
    const [stored] = (await storedIdentity(person.email)).accounts;
    expect(stored?.accessToken).toBeTruthy();
    expect(stored?.accessToken).not.toMatch(/^google-access-/);
  });

  it("keeps Better Auth's POST /api/auth/sign-in/social: JSON with the URL, then the same callback", async () => {
    const person = newUser();
    const response = await postJson(
      '/api/auth/sign-in/social',
      { provider: 'google', callbackURL: `${APP_ORIGIN}/home` },
      {},
      env,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { url: string; redirect: boolean };
    expect(body.redirect).toBe(true);
    const cookie = response.headers
      .getSetCookie()
      .map((pair) => pair.split(';')[0])
      .join('; ');

    const callback = await arriveAt(providers.google.approve(body.url, person), cookie, env);

    expect(redirectOf(callback)).toEqual({ url: new URL(`${APP_ORIGIN}/home`), error: null });
    expect(sessionCookieFrom(callback)).toBeDefined();
  });

  it('redirects a sign-in without callbackURL to the Worker itself', async () => {
    const start = await startSignIn('google', {}, env);
    const callback = await arriveAt(providers.google.approve(start.authorizationUrl, newUser()), start.cookie, env);
    expect(redirectOf(callback)).toEqual({ url: new URL(TEST_AUTH_URL), error: null });
    expect(sessionCookieFrom(callback)).toBeDefined();
  });
});

describe('Sign in with GitHub', () => {
  it('exchanges the code with PKCE and the client credentials, reads the verified primary email, signs in', async () => {
    const person = newUser({ name: 'Margaret Hamilton' });
    const { start, providerRedirect, callback, cookie } = await signInWith('github', person);

    const authorization = new URL(start.authorizationUrl).searchParams;
    expect(authorization.get('redirect_uri')).toBe(`${TEST_AUTH_URL}/api/auth/callback/github`);
    expect(authorization.get('scope')?.split(' ').sort()).toEqual(['read:user', 'user:email']);
    expect(redirectOf(callback)).toEqual({ url: new URL(`${APP_ORIGIN}/home`), error: null });

    expect(providers.github.rejections).toEqual([]);
    const sent = Object.fromEntries(providers.github.tokenRequests[0] ?? []);
    expect(sent).toMatchObject({
      grant_type: 'authorization_code',
      code: new URL(providerRedirect).searchParams.get('code'),
      client_id: providers.github.clientId,
      client_secret: providers.github.clientSecret,
      redirect_uri: `${TEST_AUTH_URL}/api/auth/callback/github`,
    });
    expect(await codeChallengeFor(sent.code_verifier ?? '')).toBe(authorization.get('code_challenge'));
    expect(providers.github.hits.get('user')).toBe(1);
    expect(providers.github.hits.get('emails')).toBe(1);

    expect(await sessionUser(cookie ?? '')).toMatchObject({
      email: person.email,
      name: person.name,
      emailVerified: true,
    });
    const stored = await storedIdentity(person.email);
    expect(stored.accounts).toMatchObject([{ providerId: 'github', accountId: person.id }]);
  });
});

describe('Sign in with Discord', () => {
  it('completes the round trip with the third configured provider', async () => {
    const person = newUser({ id: '80351110224678912', name: 'Annie Easley' });
    const { start, callback, cookie } = await signInWith('discord', person);

    const authorization = new URL(start.authorizationUrl);
    expect(`${authorization.origin}${authorization.pathname}`).toBe('https://discord.com/api/oauth2/authorize');
    expect(authorization.searchParams.get('redirect_uri')).toBe(`${TEST_AUTH_URL}/api/auth/callback/discord`);
    expect(redirectOf(callback).error).toBeNull();
    expect(providers.discord.rejections).toEqual([]);
    expect(Object.fromEntries(providers.discord.tokenRequests[0] ?? [])).toMatchObject({
      client_id: providers.discord.clientId,
      client_secret: providers.discord.clientSecret,
      redirect_uri: `${TEST_AUTH_URL}/api/auth/callback/discord`,
    });
    expect(await sessionUser(cookie ?? '')).toMatchObject({ email: person.email, emailVerified: true });
  });
});

describe('one user, several providers', () => {
  it('links a second provider to the user with the same email when both verified it', async () => {
    const email = uniqueEmail('linked');
    const viaGitHub = await signInWith('github', newUser({ email }));
    const userId = (await sessionUser(viaGitHub.cookie ?? '')).id;

    const viaGoogle = await signInWith('google', newUser({ email }), { newUserCallbackURL: `${APP_ORIGIN}/welcome` });

    // Not a new user: callbackURL, not newUserCallbackURL.
    expect(redirectOf(viaGoogle.callback)).toEqual({ url: new URL(`${APP_ORIGIN}/home`), error: null });
    expect((await sessionUser(viaGoogle.cookie ?? '')).id).toBe(userId);
    const stored = await storedIdentity(email);
    expect(stored.users).toHaveLength(1);
    expect(stored.accounts.map((row) => row.providerId).sort()).toEqual(['github', 'google']);
  });

  it('does not link an email the provider has not verified: error redirect, no session, no account', async () => {
    const email = uniqueEmail('unverified');
    const owner = await signInWith('google', newUser({ email }));
    const ownerId = (await sessionUser(owner.cookie ?? '')).id;

    const squatter = await signInWith('github', newUser({ email, emailVerified: false }), {
      errorCallbackURL: `${APP_ORIGIN}/sign-in-failed`,
    });

    const redirect = redirectOf(squatter.callback);
    expect(`${redirect.url.origin}${redirect.url.pathname}`).toBe(`${APP_ORIGIN}/sign-in-failed`);
    expect(redirect.error).toBe('account_not_linked');
    expect(squatter.cookie).toBeUndefined();
    const stored = await storedIdentity(email);
    expect(stored.users.map((row) => row.id)).toEqual([ownerId]);
    expect(stored.accounts.map((row) => row.providerId)).toEqual(['google']);
    expect(stored.sessions).toHaveLength(1);
  });

  it('does not join a password account implicitly, whose email nobody proved', async () => {
    const passwordUser = await signUp(env);

    const viaGoogle = await signInWith('google', newUser({ email: passwordUser.email }));

    expect(redirectOf(viaGoogle.callback).error).toBe('account_not_linked');
    expect(viaGoogle.cookie).toBeUndefined();
    const stored = await storedIdentity(passwordUser.email);
    expect(stored.accounts.map((row) => row.providerId)).toEqual(['credential']);
    expect(stored.sessions).toHaveLength(1);
  });

  it('lets a signed-in password user link Google explicitly (POST /api/auth/link-social)', async () => {
    const passwordUser = await signUp(env);
    const response = await postJson(
      '/api/auth/link-social',
      { provider: 'google', callbackURL: `${APP_ORIGIN}/settings` },
      { cookie: passwordUser.cookie },
      env,
    );
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const stateCookie = response.headers
      .getSetCookie()
      .map((pair) => pair.split(';')[0])
      .join('; ');

    const callback = await arriveAt(
      providers.google.approve(url, newUser({ email: passwordUser.email })),
      `${passwordUser.cookie}; ${stateCookie}`,
      env,
    );

    expect(redirectOf(callback)).toEqual({ url: new URL(`${APP_ORIGIN}/settings`), error: null });
    const stored = await storedIdentity(passwordUser.email);
    expect(stored.accounts.map((row) => row.providerId).sort()).toEqual(['credential', 'google']);
  });
});

describe('JWTs after an OAuth sign-in', () => {
  it.each(['google', 'github'] as const)(
    '%s: GET /api/auth/token verifies against our JWKS with sub = our user id',
    async (provider) => {
      const person = newUser();
      const { cookie } = await signInWith(provider, person);
      const { id } = await sessionUser(cookie ?? '');

      const response = await callWorker('/api/auth/token', { headers: { cookie: cookie ?? '' } });
      expect(response.status).toBe(200);
      const { token } = (await response.json()) as { token: string };
      const jwks = (await (await callWorker('/api/auth/jwks')).json()) as JSONWebKeySet;
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: TEST_AUTH_URL,
        audience: TEST_AUTH_URL,
      });
      // A provider sign-in is `fed` (Microsoft's value; RFC 8176 has none for it).
      expect(payload).toMatchObject({ sub: id, email: person.email, emailVerified: true, amr: ['fed'] });
      expect(payload.sub).not.toBe(person.id);
    },
  );
});
