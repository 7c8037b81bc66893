// Account takeover: each describe below performs one attack that two attack
// reviews found against an earlier build, and asserts that it now fails.
// docs/security.md lists each defended path with the test that covers it.
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH_ROUTES, DISABLED_AUTH_PATHS } from '../src/auth-routes';
import { account, session, user, verification } from '../src/db/schema';
import { checkIdTokenSignIn } from '../src/oauth/id-token-sign-in';
import { emailsTo, tokenFromLatestEmail } from './fakes/email-api';
import type { FakeProviders, FakeUser } from './fakes/oauth-providers';
import {
  betterAuthFor,
  callWorker,
  cookiesFrom,
  type EnvOverrides,
  postJson,
  randomIp,
  signUp,
  TEST_AUTH_URL,
  uniqueEmail,
  withDb,
} from './helpers';
import {
  APP_ORIGIN,
  arriveAt,
  installAppProviders,
  type ProviderId,
  providerUser,
  redirectOf,
  sessionCookieFrom,
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

const person = (overrides: Partial<FakeUser> = {}) => providerUser(overrides, 'person', 'Someone');
const signInWith = (provider: ProviderId, who: FakeUser, overrides: EnvOverrides = env) =>
  signInWithProvider(providers, overrides, provider, who);

const squatterPassword = 'the squatter chose this';

/** The attacker signs up with a password under the victim's address. */
function squatterSignUp(victim: string) {
  return postJson('/api/auth/sign-up/email', { email: victim, password: squatterPassword, name: 'Squatter' }, {}, env);
}

async function sessionOf(cookie: string | undefined) {
  if (!cookie) return null;
  const response = await callWorker('/api/auth/session', { headers: { cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    user: { id: string; email: string; emailVerified: boolean };
    session: Record<string, unknown>;
  } | null;
}

async function resetPasswordThroughEmail(email: string, newPassword: string, overrides: EnvOverrides = {}) {
  expect((await postJson('/api/auth/request-password-reset', { email }, {}, overrides)).status).toBe(200);
  const token = tokenFromLatestEmail(email, '/reset-password');
  return postJson('/api/auth/reset-password', { token, newPassword }, {}, overrides);
}

/** A user and a provider link as an earlier build could leave them: the link made from an unverified address. */
async function insertLegacyProviderUser(email: string, provider: ProviderId, providerAccountId: string) {
  const userId = `legacy-${crypto.randomUUID()}`;
  await withDb(async (db) => {
    await db.insert(user).values({ id: userId, name: 'Attacker', email, emailVerified: false });
    await db
      .insert(account)
      .values({ id: crypto.randomUUID(), accountId: providerAccountId, providerId: provider, userId });
  });
  return userId;
}

/** Body fields through which an endpoint checks a secret the caller must know. */
const SECRET_FIELDS = ['password', 'currentPassword', 'code', 'otp', 'backupCode'];

/**
 * Endpoints whose secret is not one a person could guess: the OAuth callback's
 * `code` is the provider's, redeemed once at the provider, and only under a
 * single-use state bound to this browser and a PKCE verifier we hold.
 */
const NOT_GUESSABLE = new Set(['/callback/:id']);

/**
 * Every endpoint Better Auth serves over HTTP, with this configuration and
 * these plugins, whose body carries a secret to check. New plugins and new
 * Better Auth versions show up here without anyone listing them.
 */
function passwordCheckingEndpoints() {
  const auth = betterAuthFor(providers.env);
  const found: Array<{ path: string; fields: string[] }> = [];
  for (const endpoint of Object.values(auth.api) as Array<{ path?: string; options?: Record<string, unknown> }>) {
    const options = endpoint.options as { metadata?: { SERVER_ONLY?: boolean }; body?: unknown } | undefined;
    if (!endpoint.path || options?.metadata?.SERVER_ONLY) continue;
    const body = options?.body as { shape?: object; unwrap?: () => { shape?: object } } | undefined;
    const shape = body?.shape ?? body?.unwrap?.().shape ?? {};
    const fields = Object.keys(shape).filter((field) => SECRET_FIELDS.includes(field));
    const setsRatherThanChecks = endpoint.path.startsWith('/sign-up');
    if (fields.length > 0 && !setsRatherThanChecks && !NOT_GUESSABLE.has(endpoint.path)) {
      found.push({ path: endpoint.path, fields });
    }
  }
  return found;
}

describe('1. pre-registration through a provider email the provider did not verify', () => {
  it.each(['discord', 'github'] as const)(
    '%s with an unverified address creates no account and mails the address owner nothing',
    async (provider) => {
      const victim = uniqueEmail('victim');
      const attacker = person({ email: victim, emailVerified: false });

      const attempt = await signInWith(provider, attacker);

      expect(attempt.error).toBe('email_not_verified_by_provider');
      expect(attempt.cookie).toBeUndefined();
      expect(await storedIdentity(victim)).toEqual({ users: [], accounts: [], sessions: [] });
      expect(emailsTo(victim)).toEqual([]);

      // The owner can still sign up, and the attacker's later attempt stays refused.
      const password = 'the owner of this address';
      expect(
        (await postJson('/api/auth/sign-up/email', { email: victim, password, name: 'Owner' }, {}, env)).status,
      ).toBe(200);
      const again = await signInWith(provider, attacker);
      expect(again.cookie).toBeUndefined();
      expect((await storedIdentity(victim)).accounts.map((row) => row.providerId)).toEqual(['credential']);
    },
  );

  it('a password reset removes provider links made while the address was unproven', async () => {
    const victim = uniqueEmail('victim');
    const attacker = person({ email: victim, emailVerified: false });
    const userId = await insertLegacyProviderUser(victim, 'discord', attacker.id);

    expect((await resetPasswordThroughEmail(victim, 'the real owner resets it')).status).toBe(200);

    const stored = await storedIdentity(victim);
    expect(stored.accounts.map((row) => row.providerId)).toEqual(['credential']);
    // The reset link reached the inbox: the address is proven now.
    expect(stored.users[0]?.emailVerified).toBe(true);
    const comeback = await signInWith('discord', attacker);
    expect(comeback.cookie).toBeUndefined();
    expect((await storedIdentity(victim)).users.map((row) => row.id)).toEqual([userId]);
  });
});

describe('2. pre-registration through an implicit provider join', () => {
  it('refuses to join Google into an account that has a password; a reset then ends the squatter', async () => {
    const victim = uniqueEmail('victim');
    // The attacker signs up with the victim's address; the victim clicks the genuine verification link.
    const squatter = await squatterSignUp(victim);
    expect(squatter.status).toBe(200);
    const squatterCookie = cookiesFrom(squatter);
    const verified = await callWorker(
      `/api/auth/verify-email?token=${encodeURIComponent(tokenFromLatestEmail(victim, '/verify-email'))}`,
    );
    expect(verified.status).toBe(200);

    const viaGoogle = await signInWith('google', person({ email: victim }));

    expect(viaGoogle.error).toBe('account_has_password');
    expect(viaGoogle.cookie).toBeUndefined();
    expect((await storedIdentity(victim)).accounts.map((row) => row.providerId)).toEqual(['credential']);

    // The way in for the owner: reset the password, which ends every earlier session.
    expect((await resetPasswordThroughEmail(victim, 'the owner takes it back')).status).toBe(200);
    expect(await sessionOf(squatterCookie)).toBeNull();
    expect((await postJson('/api/auth/sign-in/email', { email: victim, password: squatterPassword })).status).toBe(401);
  });

  it('still joins two providers that both verified the address', async () => {
    const email = uniqueEmail('both');
    const first = await signInWith('github', person({ email }));
    const second = await signInWith('google', person({ email }));
    expect(second.error).toBeNull();
    expect((await sessionOf(second.cookie))?.user.id).toBe((await sessionOf(first.cookie))?.user.id);
  });
});

describe('3. REQUIRE_EMAIL_VERIFICATION=true holds for provider sign-ins', () => {
  const strict = () => ({ ...env, REQUIRE_EMAIL_VERIFICATION: 'true' });

  it('gives an unverified Discord address no session', async () => {
    const attempt = await signInWith('discord', person({ emailVerified: false }), strict());
    expect(attempt.cookie).toBeUndefined();
  });

  it('gives a linked provider account of an unverified user no session', async () => {
    const email = uniqueEmail('unverified-linked');
    const github = person({ email, emailVerified: false });
    await insertLegacyProviderUser(email, 'github', github.id);

    const attempt = await signInWith('github', github, strict());

    expect(attempt.error).toBe('email_not_verified');
    expect(attempt.cookie).toBeUndefined();
    expect((await storedIdentity(email)).sessions).toEqual([]);
  });
});

describe('4. no read endpoint hands out a session token', () => {
  it('GET /api/auth/get-session and /api/auth/session answer without the token, in the body or a header', async () => {
    const owner = await signUp();
    for (const path of ['/api/auth/get-session', '/api/auth/session']) {
      const credentials: HeadersInit[] = [{ cookie: owner.cookie }, { authorization: `Bearer ${owner.sessionToken}` }];
      for (const headers of credentials) {
        const response = await callWorker(path, { headers });
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).not.toContain(owner.sessionToken);
        expect(JSON.parse(text).session).not.toHaveProperty('token');
        expect(response.headers.get('set-auth-token')).toBeNull();
      }
    }
  });

  it('GET /api/auth/list-sessions lists ids, not tokens', async () => {
    const owner = await signUp();
    const second = await postJson('/api/auth/sign-in/email', { email: owner.email, password: owner.password });
    const secondToken = ((await second.json()) as { token: string }).token;

    const response = await callWorker('/api/auth/list-sessions', { headers: { cookie: owner.cookie } });

    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(owner.sessionToken);
    expect(text).not.toContain(secondToken);
    const sessions = JSON.parse(text) as Array<Record<string, unknown>>;
    expect(sessions).toHaveLength(2);
    for (const listed of sessions) {
      expect(listed).not.toHaveProperty('token');
      expect(listed.id).toEqual(expect.any(String));
    }
  });

  it('POST /api/auth/revoke-session ends one session by its id, only for its owner', async () => {
    const owner = await signUp();
    const other = await postJson('/api/auth/sign-in/email', { email: owner.email, password: owner.password });
    const otherCookie = cookiesFrom(other);
    const otherId = (await sessionOf(otherCookie))?.session.id as string;
    const stranger = await signUp();

    const refused = await postJson('/api/auth/revoke-session', { id: otherId }, { cookie: stranger.cookie });
    expect(refused.status).toBe(404);
    expect(await sessionOf(otherCookie)).not.toBeNull();

    const revoked = await postJson('/api/auth/revoke-session', { id: otherId }, { cookie: owner.cookie });
    expect(revoked.status).toBe(200);
    expect(await sessionOf(otherCookie)).toBeNull();
    expect(await sessionOf(owner.cookie)).not.toBeNull();
  });

  it('sign-in and sign-up still hand out the token (body and set-auth-token)', async () => {
    const owner = await signUp();
    const response = await postJson('/api/auth/sign-in/email', { email: owner.email, password: owner.password });
    const { token } = (await response.json()) as { token: string };
    expect(token).toEqual(expect.any(String));
    expect(response.headers.get('set-auth-token')).toBeTruthy();
  });
});

describe('5. password guessing behind a session', () => {
  const wrongChange = (cookie: string, ip: string) =>
    postJson(
      '/api/auth/change-password',
      { currentPassword: 'not the password', newPassword: 'whatever it may be' },
      { cookie, 'cf-connecting-ip': ip },
    );

  it('limits wrong current passwords per account, whatever the client address', async () => {
    const owner = await signUp();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) statuses.push((await wrongChange(owner.cookie, randomIp())).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // The owner, with the right password, is refused too until the window ends: that is the lock.
    const right = await postJson(
      '/api/auth/change-password',
      { currentPassword: owner.password, newPassword: 'a new password here' },
      { cookie: owner.cookie },
    );
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits password checks per client address across accounts', async () => {
    const ip = randomIp();
    const owners = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 32; attempt++) {
      statuses.push((await wrongChange((owners[attempt % 4] as { cookie: string }).cookie, ip)).status);
    }
    expect(statuses.filter((status) => status === 400)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual([429, 429]);
  });

  it('every endpoint that checks a password or a code is limited per account, or off the network', () => {
    const checked = passwordCheckingEndpoints();
    // Sanity: the inventory sees the endpoints we know of.
    expect(checked.map(({ path }) => path)).toEqual(
      expect.arrayContaining(['/sign-in/email', '/change-password', '/verify-password']),
    );
    for (const { path, fields } of checked) {
      const disabled = (DISABLED_AUTH_PATHS as readonly string[]).includes(path);
      const guard = AUTH_ROUTES.find((candidate) => candidate.path === path);
      expect(
        disabled || Boolean(guard?.limit?.perAccount),
        `${path} reads ${fields.join(', ')} but has no per-account limit`,
      ).toBe(true);
    }
  });

  it('every endpoint that takes an idToken goes through our nonce check, or is off the network', () => {
    const auth = betterAuthFor(providers.env);
    const takingIdTokens = (Object.values(auth.api) as Array<{ path?: string; options?: Record<string, unknown> }>)
      .filter((endpoint) => {
        const body = endpoint.options?.body as { shape?: object; unwrap?: () => { shape?: object } } | undefined;
        return endpoint.path && 'idToken' in (body?.shape ?? body?.unwrap?.().shape ?? {});
      })
      .map((endpoint) => endpoint.path as string);
    expect(takingIdTokens).toEqual(expect.arrayContaining(['/sign-in/social', '/link-social']));
    for (const path of takingIdTokens) {
      const route = AUTH_ROUTES.find((candidate) => candidate.path === path);
      const disabled = (DISABLED_AUTH_PATHS as readonly string[]).includes(path);
      expect(
        disabled || Boolean(route?.handlers?.includes(checkIdTokenSignIn)),
        `${path} takes an idToken unchecked`,
      ).toBe(true);
    }
  });

  it('keeps POST /api/auth/verify-password off the network', async () => {
    const owner = await signUp();
    const response = await postJson('/api/auth/verify-password', { password: 'guess' }, { cookie: owner.cookie });
    expect(response.status).toBe(404);
  });

  it('does not count the owner’s successful changes against the account', async () => {
    const owner = await signUp();
    let password = owner.password;
    let cookie = owner.cookie;
    for (let change = 0; change < 11; change++) {
      const newPassword = `new password number ${change}`;
      const response = await postJson(
        '/api/auth/change-password',
        { currentPassword: password, newPassword },
        { cookie, 'cf-connecting-ip': randomIp() },
      );
      expect(response.status).toBe(200);
      password = newPassword;
      cookie = cookiesFrom(response) || cookie;
    }
  });
});

describe('6. reset links and other sessions after a password change', () => {
  it('a used link voids the older one, and requesting a new link voids the one before', async () => {
    const owner = await signUp();
    await postJson('/api/auth/request-password-reset', { email: owner.email });
    const first = tokenFromLatestEmail(owner.email, '/reset-password');
    await postJson('/api/auth/request-password-reset', { email: owner.email });
    const second = tokenFromLatestEmail(owner.email, '/reset-password');

    // Requesting the second voided the first.
    const stale = await postJson('/api/auth/reset-password', { token: first, newPassword: 'stale link password' });
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { code: string }).code).toBe('INVALID_TOKEN');
    expect(
      (await postJson('/api/auth/reset-password', { token: second, newPassword: 'fresh link password' })).status,
    ).toBe(200);
  });

  it('a password change voids every outstanding reset link', async () => {
    const owner = await signUp();
    await postJson('/api/auth/request-password-reset', { email: owner.email });
    const token = tokenFromLatestEmail(owner.email, '/reset-password');

    const changed = await postJson(
      '/api/auth/change-password',
      { currentPassword: owner.password, newPassword: 'changed while a link was out' },
      { cookie: owner.cookie },
    );
    expect(changed.status).toBe(200);

    const late = await postJson('/api/auth/reset-password', { token, newPassword: 'the link from before' });
    expect(late.status).toBe(400);
  });

  it('a password change ends every other session by default; the caller stays signed in', async () => {
    const owner = await signUp();
    const elsewhere = cookiesFrom(
      await postJson('/api/auth/sign-in/email', { email: owner.email, password: owner.password }),
    );
    expect(await sessionOf(elsewhere)).not.toBeNull();

    const changed = await postJson(
      '/api/auth/change-password',
      { currentPassword: owner.password, newPassword: 'a password nobody else has' },
      { cookie: owner.cookie },
    );

    expect(changed.status).toBe(200);
    expect(await sessionOf(elsewhere)).toBeNull();
    const caller = cookiesFrom(changed);
    expect((await sessionOf(caller))?.user.email).toBe(owner.email);
  });
});

describe('7. credentials at rest and id_token sign-ins', () => {
  it('stores reset tokens hashed', async () => {
    const owner = await signUp();
    await postJson('/api/auth/request-password-reset', { email: owner.email });
    const token = tokenFromLatestEmail(owner.email, '/reset-password');
    const rows = await withDb((db) => db.select().from(verification).where(eq(verification.value, owner.id)));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.identifier).not.toContain(token);
    expect(rows[0]?.identifier).toMatch(/^reset-password:[\w-]{43}$/);
  });

  it('keeps no Google id_token, on the first sign-in or a later one', async () => {
    const google = person();
    await signInWith('google', google);
    await signInWith('google', google);
    const [stored] = (await storedIdentity(google.email)).accounts;
    expect(stored?.providerId).toBe('google');
    expect(stored?.idToken).toBeNull();
  });

  it('refuses an id_token sign-in unless it is configured', async () => {
    const google = person();
    const idToken = await providers.google.signIdToken(google);
    const response = await postJson(
      '/api/auth/sign-in/social',
      { provider: 'google', idToken: { token: idToken } },
      {},
      env,
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('ID_TOKEN_SIGN_IN_DISABLED');
    expect(await storedIdentity(google.email)).toEqual({ users: [], accounts: [], sessions: [] });
  });
});

describe('7. id_token sign-in for native apps, when configured: a single-use nonce of ours', () => {
  const native = () => ({ ...env, ID_TOKEN_SIGN_IN_PROVIDERS: 'google' });

  async function nonceFor(provider: string) {
    const response = await postJson('/api/auth/id-token-nonce', { provider }, {}, native());
    expect(response.status).toBe(200);
    return ((await response.json()) as { nonce: string }).nonce;
  }

  const signInWithIdToken = (token: string, nonce?: string) =>
    postJson('/api/auth/sign-in/social', { provider: 'google', idToken: { token, nonce } }, {}, native());

  it('signs in once with a token carrying our nonce; the same token and nonce again are refused', async () => {
    const google = person();
    const nonce = await nonceFor('google');
    const token = await providers.google.signIdToken(google, { nonce });

    const first = await signInWithIdToken(token, nonce);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { user: { email: string } }).user.email).toBe(google.email);

    const replay = await signInWithIdToken(token, nonce);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { code: string }).code).toBe('INVALID_NONCE');
    expect((await storedIdentity(google.email)).sessions).toHaveLength(1);
  });

  it.each([
    ['no nonce', undefined, 'VALIDATION_ERROR'],
    ['a nonce we never issued', 'made-up-nonce', 'INVALID_NONCE'],
  ])('refuses a token with %s', async (_, nonce, code) => {
    const google = person();
    const token = await providers.google.signIdToken(google, { nonce: nonce ?? 'x' });
    const response = await signInWithIdToken(token, nonce);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe(code);
    expect((await storedIdentity(google.email)).users).toEqual([]);
  });

  it('refuses a stored token without our nonce in it, even with a fresh nonce beside it', async () => {
    const google = person();
    const token = await providers.google.signIdToken(google);
    const response = await signInWithIdToken(token, await nonceFor('google'));
    expect(response.status).toBe(401);
    expect((await storedIdentity(google.email)).users).toEqual([]);
  });

  it('gives no nonce for a provider that is not enabled', async () => {
    const response = await postJson('/api/auth/id-token-nonce', { provider: 'github' }, {}, native());
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('ID_TOKEN_SIGN_IN_DISABLED');
  });

  it('refuses ID_TOKEN_SIGN_IN_PROVIDERS naming a provider without id_tokens, as a misconfiguration', async () => {
    const response = await callWorker('/api/auth/session', {}, { ...env, ID_TOKEN_SIGN_IN_PROVIDERS: 'github' });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('SERVER_MISCONFIGURED');
    expect(body.message).toContain('ID_TOKEN_SIGN_IN_PROVIDERS');
  });
});

describe('7. id_token links: the same switch and nonce as id_token sign-ins', () => {
  it('refuses POST /api/auth/link-social with an idToken: a squatter cannot join a stolen Google token to the account', async () => {
    const victim = uniqueEmail('victim');
    const squatter = await squatterSignUp(victim);
    const squatterCookie = cookiesFrom(squatter);
    const stolen = await providers.google.signIdToken(person({ email: victim }));

    for (const idToken of [{ token: stolen }, { token: stolen, nonce: 'spent-or-foreign' }]) {
      const linked = await postJson(
        '/api/auth/link-social',
        { provider: 'google', idToken },
        { cookie: squatterCookie },
        env,
      );
      expect(linked.status).toBe(400);
      expect(((await linked.json()) as { code: string }).code).toBe('ID_TOKEN_SIGN_IN_DISABLED');
    }
    expect((await storedIdentity(victim)).accounts.map((row) => row.providerId)).toEqual(['credential']);
  });

  it('needs our single-use nonce for an id_token link when id_token sign-in is configured', async () => {
    const native = { ...env, ID_TOKEN_SIGN_IN_PROVIDERS: 'google' };
    const owner = await signUp(native);
    const token = await providers.google.signIdToken(person({ email: owner.email }));
    const linked = await postJson(
      '/api/auth/link-social',
      { provider: 'google', idToken: { token, nonce: 'never-issued' } },
      { cookie: owner.cookie },
      native,
    );
    expect(linked.status).toBe(400);
    expect(((await linked.json()) as { code: string }).code).toBe('INVALID_NONCE');
    expect((await storedIdentity(owner.email)).accounts.map((row) => row.providerId)).toEqual(['credential']);
  });
});

describe('8. an OAuth state completes only the provider it was issued for', () => {
  it('refuses a Google state at the GitHub callback (provider mix-up)', async () => {
    const victimBrowser = await startSignIn('google', { callbackURL: `${APP_ORIGIN}/home` }, env);
    const googleParams = new URL(victimBrowser.authorizationUrl).searchParams;
    // A GitHub authorization request carrying Google's state and PKCE challenge,
    // as a malicious provider in the middle would build it.
    const github = new URL((await startSignIn('github', {}, env)).authorizationUrl);
    github.searchParams.set('state', googleParams.get('state') ?? '');
    github.searchParams.set('code_challenge', googleParams.get('code_challenge') ?? '');
    const attacker = person();

    const callback = await arriveAt(providers.github.approve(github.toString(), attacker), victimBrowser.cookie, env);

    expect(redirectOf(callback).error).toBe('invalid_code');
    // Refused before the code exchange: Google's PKCE verifier never reached GitHub.
    expect(providers.github.tokenRequests).toEqual([]);
    expect(sessionCookieFrom(callback)).toBeUndefined();
    expect((await storedIdentity(attacker.email)).users).toEqual([]);
  });
});

describe('9. "don\'t remember me" stays short', () => {
  it('a bearer session read does not stretch a rememberMe:false session', async () => {
    const owner = await signUp();
    const signIn = await postJson('/api/auth/sign-in/email', {
      email: owner.email,
      password: owner.password,
      rememberMe: false,
    });
    const { token } = (await signIn.json()) as { token: string };

    const read = await callWorker('/api/auth/get-session', { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);

    const [row] = await withDb((db) => db.select().from(session).where(eq(session.token, token)));
    expect(row).toBeDefined();
    const lifetimeMs = (row?.expiresAt.getTime() ?? 0) - (row?.createdAt.getTime() ?? 0);
    expect(lifetimeMs).toBeLessThanOrEqual(24 * 60 * 60 * 1000 + 5_000);
  });
});

describe('10. sign-up does not tell who has an account when verification is required', () => {
  const strict = { REQUIRE_EMAIL_VERIFICATION: 'true' };

  it('answers a taken address like a new one and emails its owner instead', async () => {
    const owner = await signUp();
    const fresh = uniqueEmail('fresh');
    const password = 'some password or other';

    const taken = await postJson('/api/auth/sign-up/email', { email: owner.email, password, name: 'X' }, {}, strict);
    const created = await postJson('/api/auth/sign-up/email', { email: fresh, password, name: 'X' }, {}, strict);

    expect(taken.status).toBe(created.status);
    const takenBody = (await taken.json()) as { token: unknown; user: Record<string, unknown> };
    const createdBody = (await created.json()) as { token: unknown; user: Record<string, unknown> };
    expect(takenBody.token).toBeNull();
    expect(Object.keys(takenBody.user).sort()).toEqual(Object.keys(createdBody.user).sort());
    expect(cookiesFrom(taken)).toBe(cookiesFrom(created));
    const notice = emailsTo(owner.email).at(-1);
    expect(notice?.subject).toBe('Someone tried to create an account for auth-worker with your email');
    expect(notice?.text).toContain(`${TEST_AUTH_URL}/forgot-password`);
  });
});
