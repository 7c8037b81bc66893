// Passkeys through the Worker, with a software authenticator that signs real
// WebAuthn responses (test/fakes/authenticator.ts): register while signed in,
// list, rename, delete, sign in, and the checks that keep someone else's
// passkey, another site's assertion or a replay from opening a session.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvent, passkey, session } from '../src/db/schema';
import { RATE_LIMITS } from '../src/rate-limit';
import { softwareAuthenticator } from './fakes/authenticator';
import {
  callWorker,
  cookiesFrom,
  databaseFingerprint,
  fetchJwks,
  postJson,
  randomIp,
  sessionCookieIn,
  setCookieMatching,
  signUp,
  TEST_AUTH_URL,
  type TestUser,
  verifyWithJwks,
  withDb,
} from './helpers';

type Authenticator = ReturnType<typeof softwareAuthenticator>;

/** The WebAuthn challenge cookie an options answer set, for the verify call. */
function challengeCookieOf(response: Response): string {
  const cookie = setCookieMatching(response, /better-auth-passkey=/);
  if (!cookie) throw new Error('no passkey challenge cookie');
  return cookie;
}

async function register(person: TestUser, authenticator: Authenticator, name?: string) {
  const options = await callWorker('/api/auth/passkey/generate-register-options', {
    headers: { cookie: person.cookie },
  });
  expect(options.status).toBe(200);
  const publicKey = (await options.json()) as { challenge: string; rp: { id: string }; user: { id: string } };
  expect(publicKey.rp.id).toBe(new URL(TEST_AUTH_URL).hostname);
  const response = await authenticator.create(publicKey);
  return postJson(
    '/api/auth/passkey/verify-registration',
    { response, ...(name ? { name } : {}) },
    { cookie: `${person.cookie}; ${challengeCookieOf(options)}` },
  );
}

async function signInOptions() {
  const options = await callWorker('/api/auth/passkey/generate-authenticate-options');
  expect(options.status).toBe(200);
  return {
    publicKey: (await options.json()) as { challenge: string; rpId: string },
    cookie: challengeCookieOf(options),
  };
}

async function signInWith(authenticator: Authenticator, get: Parameters<Authenticator['get']>[1] = {}) {
  const { publicKey, cookie } = await signInOptions();
  const response = await authenticator.get(publicKey, get);
  return {
    answer: await postJson('/api/auth/passkey/verify-authentication', { response }, { cookie }),
    response,
    cookie,
  };
}

async function listPasskeys(person: TestUser) {
  const response = await callWorker('/api/auth/passkey/list-user-passkeys', { headers: { cookie: person.cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as Array<{ id: string; name?: string | null; deviceType: string }>;
}

async function amrOf(cookie: string) {
  const response = await callWorker('/api/auth/token', { headers: { cookie } });
  expect(response.status).toBe(200);
  const { token } = (await response.json()) as { token: string };
  const { jwks } = await fetchJwks();
  return (await verifyWithJwks(jwks, token)).payload.amr;
}

async function eventTypesOf(userId: string) {
  const rows = await withDb((db) => db.select().from(auditEvent).where(eq(auditEvent.userId, userId)));
  return rows.map((row) => row.type);
}

describe('registering a passkey', () => {
  it('works while signed in, and the passkey is listed with its name', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    const added = await register(person, authenticator, 'Work laptop');
    expect(added.status).toBe(200);
    const listed = await listPasskeys(person);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: 'Work laptop', deviceType: 'singleDevice' });
    expect(await eventTypesOf(person.id)).toContain('passkey_added');
  });

  it('needs a session', async () => {
    const options = await callWorker('/api/auth/passkey/generate-register-options');
    expect(options.status).toBe(401);
    const verify = await postJson('/api/auth/passkey/verify-registration', {
      response: { id: 'x', type: 'public-key', response: {} },
    });
    expect(verify.status).toBe(401);
  });

  // A stolen session must not become a passkey that outlives it (a password
  // reset ends sessions, not passkeys): adding one needs a recent sign-in.
  it('refuses a session signed in more than 15 minutes ago (403 SESSION_NOT_FRESH)', async () => {
    const person = await signUp();
    const twentyMinutesAgo = new Date(Date.now() - 20 * 60 * 1000);
    await withDb((db) => db.update(session).set({ createdAt: twentyMinutesAgo }).where(eq(session.userId, person.id)));
    const options = await callWorker('/api/auth/passkey/generate-register-options', {
      headers: { cookie: person.cookie },
    });
    expect(options.status).toBe(403);
    expect(await options.json()).toMatchObject({ code: 'SESSION_NOT_FRESH' });
    expect(cookiesFrom(options)).not.toContain('better-auth-passkey=');
  });

  it('refuses a response made for another origin, and stores nothing', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: 'https://evil.test' });
    const before = await withDb((db) => db.select().from(passkey).where(eq(passkey.userId, person.id)));
    const added = await register(person, authenticator);
    expect(added.status).toBe(400);
    expect(await added.json()).toMatchObject({ code: 'FAILED_TO_VERIFY_REGISTRATION', message: expect.any(String) });
    const after = await withDb((db) => db.select().from(passkey).where(eq(passkey.userId, person.id)));
    expect(after).toEqual(before);
  });
});

describe('signing in with a passkey', () => {
  it('opens a session for its owner; a device-bound passkey with user verification is hwk and mfa', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    expect((await register(person, authenticator)).status).toBe(200);
    const { answer } = await signInWith(authenticator);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { user: { id: string } };
    expect(body.user.id).toBe(person.id);
    const cookie = sessionCookieIn(answer) as string;
    expect(cookie).toBeDefined();
    expect(await amrOf(cookie)).toEqual(['hwk', 'mfa']);
    const signIns = await withDb((db) => db.select().from(auditEvent).where(eq(auditEvent.userId, person.id))).then(
      (rows) => rows.filter((row) => row.type === 'sign_in'),
    );
    expect(signIns.map((row) => row.method)).toEqual(['passkey']);
  });

  it('a synced passkey is swk; without user verification there is no mfa', async () => {
    const person = await signUp();
    const synced = softwareAuthenticator({ origin: TEST_AUTH_URL, synced: true, userVerified: false });
    expect((await register(person, synced)).status).toBe(200);
    const { answer } = await signInWith(synced);
    expect(answer.status).toBe(200);
    expect(await amrOf(sessionCookieIn(answer) as string)).toEqual(['swk']);
  });

  it('refuses an assertion for another origin, a replayed one, and an unknown passkey', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    expect((await register(person, authenticator)).status).toBe(200);

    const foreign = await signInWith(authenticator, { origin: 'https://evil.test' });
    expect(foreign.answer.status).toBe(400);
    expect(sessionCookieIn(foreign.answer)).toBeUndefined();

    const good = await signInWith(authenticator);
    expect(good.answer.status).toBe(200);
    const replay = await postJson(
      '/api/auth/passkey/verify-authentication',
      { response: good.response },
      { cookie: good.cookie },
    );
    expect(replay.status).toBe(400);
    expect(sessionCookieIn(replay)).toBeUndefined();

    const stranger = softwareAuthenticator({ origin: TEST_AUTH_URL });
    const other = await signUp();
    expect((await register(other, stranger)).status).toBe(200);
    await withDb((db) => db.delete(passkey).where(eq(passkey.userId, other.id)));
    const unknown = await signInWith(stranger);
    expect(unknown.answer.status).toBe(401);
    expect(sessionCookieIn(unknown.answer)).toBeUndefined();
  });

  it('refuses an assertion signed by a key other than the registered one', async () => {
    const person = await signUp();
    const owner = softwareAuthenticator({ origin: TEST_AUTH_URL });
    expect((await register(person, owner)).status).toBe(200);
    const forger = softwareAuthenticator({ origin: TEST_AUTH_URL });
    const other = await signUp();
    expect((await register(other, forger)).status).toBe(200);
    // The forger's key, presented under the owner's credential id.
    const impostor = {
      ...(forger.passkeys[0] as (typeof forger.passkeys)[0]),
      credentialId: owner.passkeys[0]?.credentialId as Uint8Array,
    };
    const { answer } = await signInWith(forger, { passkey: impostor });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect(sessionCookieIn(answer)).toBeUndefined();
  });

  it('gives a banned user no session', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    expect((await register(person, authenticator)).status).toBe(200);
    const { user } = await import('../src/db/schema');
    await withDb((db) => db.update(user).set({ banned: true }).where(eq(user.id, person.id)));
    const { answer } = await signInWith(authenticator);
    expect(answer.status).toBe(403);
    expect(sessionCookieIn(answer)).toBeUndefined();
  });

  it('limits sign-in attempts per client address', async () => {
    const ip = randomIp();
    const { limit } = RATE_LIMITS.passkeySignIn.perIp;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < limit + 1; attempt++) {
      const response = await postJson(
        '/api/auth/passkey/verify-authentication',
        { response: { id: `unknown-${attempt}`, type: 'public-key', response: {} } },
        { 'cf-connecting-ip': ip },
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, limit).every((status) => status === 400)).toBe(true);
    expect(statuses[limit]).toBe(429);
  });
});

describe('managing passkeys', () => {
  it('renames and deletes its own passkeys, never another user’s', async () => {
    const person = await signUp();
    const other = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    expect((await register(person, authenticator, 'Phone')).status).toBe(200);
    const [mine] = await listPasskeys(person);
    const id = mine?.id as string;

    const hijack = await postJson(
      '/api/auth/passkey/update-passkey',
      { id, name: 'Mine now' },
      { cookie: other.cookie },
    );
    expect(hijack.status).toBe(401);
    const steal = await postJson('/api/auth/passkey/delete-passkey', { id }, { cookie: other.cookie });
    expect(steal.status).toBe(401);
    expect(await listPasskeys(person)).toMatchObject([{ id, name: 'Phone' }]);

    const renamed = await postJson(
      '/api/auth/passkey/update-passkey',
      { id, name: 'Old phone' },
      { cookie: person.cookie },
    );
    expect(renamed.status).toBe(200);
    expect(await listPasskeys(person)).toMatchObject([{ id, name: 'Old phone' }]);

    const deleted = await postJson('/api/auth/passkey/delete-passkey', { id }, { cookie: person.cookie });
    expect(deleted.status).toBe(200);
    expect(await listPasskeys(person)).toEqual([]);
    expect(await eventTypesOf(person.id)).toContain('passkey_removed');
    // A deleted passkey signs nobody in.
    const { answer } = await signInWith(authenticator);
    expect(answer.status).toBe(401);
  });

  it.each([
    ['/passkey/update-passkey', { id: 'x', name: '' }],
    ['/passkey/update-passkey', { id: 'x', name: 'a\u202eb' }],
    ['/passkey/update-passkey', { id: 'x', name: 'x'.repeat(101) }],
    ['/passkey/delete-passkey', { id: '' }],
    ['/passkey/verify-authentication', { response: 'not an object' }],
    ['/passkey/verify-authentication', { response: { id: 'x', type: 'other', response: {} } }],
    ['/passkey/verify-registration', { response: {} }],
  ])('%s %j: 400 VALIDATION_ERROR, nothing written', async (path, body) => {
    const person = await signUp();
    const before = await databaseFingerprint();
    const response = await postJson(`/api/auth${path}`, body, { cookie: person.cookie });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.any(String) });
    expect(await databaseFingerprint()).toBe(before);
  });

  it('the sign-in options answer needs no session and sets a challenge cookie', async () => {
    const options = await callWorker('/api/auth/passkey/generate-authenticate-options');
    expect(options.status).toBe(200);
    expect(cookiesFrom(options)).toContain('better-auth-passkey=');
  });
});
