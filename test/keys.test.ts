import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { symmetricDecrypt } from 'better-auth/crypto';
import { eq } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { readConfig } from '../src/config';
import { createDb, databaseWork } from '../src/db/client';
import { jwks } from '../src/db/schema';
import worker from '../src/index';
import { forgetKeySnapshots, getPublicKeySnapshot, keyRefreshes } from '../src/jwt/key-cache';
import { privateKeyDecryptions } from '../src/jwt/key-crypto';
import { keyState, readKeys, rotateSigningKeys, type StoredKey } from '../src/jwt/key-store';
import { keySourceFor } from '../src/jwt/keys';
import {
  ISOLATE_KEY_CACHE_MS,
  ISOLATE_KEY_STALE_LIMIT_MS,
  PUBLISH_AHEAD_MS,
  RETIRED_KEY_RETENTION_MS,
  SIGNING_KEY_LIFETIME_MS,
  SIGNING_KEY_MAX_AGE_MS,
  SIGNING_KEY_REFRESH_MS,
} from '../src/jwt/policy';
import { purgeKeyCaches } from '../src/jwt/routes';
import {
  callWorker,
  type EnvOverrides,
  fetchJwks,
  signUp,
  startWorker,
  TEST_AUTH_URL,
  type TestUser,
  tokenFor,
  verifyWithJwks,
  withDatabaseFault,
  withDb,
} from './helpers';
import { TEST_SECRET } from './setup/constants';

const UNREACHABLE_DATABASE: EnvOverrides = { DATABASE_URL: inject('faultDatabaseUrls')['nothing-listens'] };
// The isolate keeps its key copies per DATABASE_URL: tests of a copy outliving
// its database read it through this route, then fail the route with
// withDatabaseFault.
const SWITCHABLE_DATABASE: EnvOverrides = { DATABASE_URL: inject('switchableDatabase').url };

const keys = () => withDb((db) => readKeys(db));
const keyIn = async (state: ReturnType<typeof keyState>) => (await keys()).find((key) => keyState(key) === state);

/** Runs the Worker's cron handler as if scheduled at `at`. */
async function runCron(at: Date, overrides: EnvOverrides = {}): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: at, cron: '17 * * * *' }),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

/** The clock the rotation tests run on: always after every timestamp in the key store. */
async function latestKeyTime(): Promise<number> {
  const times = (await keys()).flatMap((key: StoredKey) =>
    [key.createdAt, key.activatedAt, key.expiresAt].filter((time): time is Date => time !== null),
  );
  return Math.max(Date.now(), ...times.map((time) => time.getTime()));
}

let user: TestUser;
beforeAll(async () => {
  user = await signUp();
});

describe('GET /api/auth/jwks', () => {
  it('is cacheable by browsers, CDNs and verifiers, with a strong ETag and open CORS', async () => {
    const { response, jwks } = await fetchJwks();
    expect(response.headers.get('cache-control')).toBe(
      'public, max-age=300, stale-while-revalidate=300, stale-if-error=21600',
    );
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{43}"$/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kid: expect.any(String), alg: expect.any(String), use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('serves the same document at /.well-known/jwks.json', async () => {
    const a = await fetchJwks('/api/auth/jwks');
    const b = await fetchJwks('/.well-known/jwks.json');
    expect(b.jwks).toEqual(a.jwks);
    expect(b.response.headers.get('etag')).toBe(a.response.headers.get('etag'));
  });

  it('answers If-None-Match with 304 and no body', async () => {
    const etag = (await fetchJwks()).response.headers.get('etag') as string;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await callWorker('/api/auth/jwks', { headers: { 'if-none-match': ifNoneMatch } });
      expect(response.status).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect(await response.text()).toBe('');
    }
    const changed = await callWorker('/api/auth/jwks', { headers: { 'if-none-match': '"stale"' } });
    expect(changed.status).toBe(200);
  });

  it('does no database work for the 2nd..Nth request, from the edge cache or the isolate cache', async () => {
    await fetchJwks();
    const before = databaseWork();
    for (let i = 0; i < 5; i++) await fetchJwks();
    await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`); // the isolate cache alone
    for (let i = 0; i < 5; i++) await fetchJwks();
    expect(databaseWork()).toEqual(before);
  });

  it('keeps serving while the database is unreachable', async () => {
    await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);
    const { jwks } = await fetchJwks('/api/auth/jwks', SWITCHABLE_DATABASE);
    await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);
    const during = await withDatabaseFault('nothing-listens', () => fetchJwks('/api/auth/jwks', SWITCHABLE_DATABASE));
    expect(during.jwks).toEqual(jwks);
  });

  it('keeps serving from the edge cache to a cold isolate while the database is unreachable', async () => {
    const { jwks } = await fetchJwks();
    forgetKeySnapshots(); // a new isolate: only the edge cache has the document
    const during = await fetchJwks('/api/auth/jwks', UNREACHABLE_DATABASE);
    expect(during.jwks).toEqual(jwks);
  });

  it('answers 503 KEYS_UNAVAILABLE when no cache has the keys and the database is unreachable', async () => {
    forgetKeySnapshots();
    await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);
    const response = await callWorker('/api/auth/jwks', {}, UNREACHABLE_DATABASE);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'KEYS_UNAVAILABLE', requestId: expect.any(String) });
  });

  it('answers 503, not 401, for a token request while the database is unreachable', async () => {
    forgetKeySnapshots();
    const response = await callWorker('/api/auth/token', { headers: { cookie: user.cookie } }, UNREACHABLE_DATABASE);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
  });

  it('serves an expired isolate copy at once when the database is down, and refreshes in the background', async () => {
    const config = readConfig({ ...env, ...SWITCHABLE_DATABASE } as Env);
    const fresh = await getPublicKeySnapshot(keySourceFor(config, { waitUntil: () => {} }));
    const later = fresh.loadedAt + ISOLATE_KEY_CACHE_MS + 1;
    const background: Promise<unknown>[] = [];
    const source = keySourceFor(config, { waitUntil: (work) => void background.push(work) });
    await withDatabaseFault('nothing-listens', async () => {
      const stale = await getPublicKeySnapshot(source, later);
      expect(stale).toBe(fresh);
      expect(background.length).toBeGreaterThan(0);
      await Promise.allSettled(background); // the refresh fails, and is only logged
      expect(await getPublicKeySnapshot(source)).toBe(fresh);
    });
  });
});

describe('the isolate copy past its stale limit', () => {
  it('is not served: the database must answer', async () => {
    const config = readConfig({ ...env, ...SWITCHABLE_DATABASE } as Env);
    const source = keySourceFor(config, { waitUntil: () => {} });
    forgetKeySnapshots();
    const fresh = await getPublicKeySnapshot(source);
    const tooOld = fresh.loadedAt + ISOLATE_KEY_CACHE_MS + ISOLATE_KEY_STALE_LIMIT_MS;
    await withDatabaseFault('nothing-listens', () => expect(getPublicKeySnapshot(source, tooOld)).rejects.toThrow());
  });
});

describe('the signing key copy in an isolate', () => {
  // Only Date is faked, and it stands still until a test moves it: the
  // driver's timers and the fault proxies keep real time.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const tokenRequest = () => ({ headers: { cookie: user.cookie } });
  const signingKid = async (overrides: EnvOverrides = {}) => decodeProtectedHeader(await tokenFor(user, overrides)).kid;

  /** This isolate reads the key table now; returns when, and the key it signs with. */
  async function readSigningKeyNow(overrides: EnvOverrides = {}): Promise<{ readAt: number; kid: string }> {
    forgetKeySnapshots();
    const readAt = Date.now();
    return { readAt, kid: (await signingKid(overrides)) as string };
  }

  /** What `npm run keys:rotate -- --revoke <kid>` does, from outside this isolate. */
  async function revoke(kid: string): Promise<void> {
    const config = readConfig(env);
    const settings = { alg: config.jwtAlg, secrets: { current: config.secret, previous: undefined } };
    await withDb((db) => rotateSigningKeys(db, settings, new Date(), { revoke: kid }));
  }

  it('picks up a revocation in the background of the first request past the refresh interval', async () => {
    const { readAt, kid: revoked } = await readSigningKeyNow();
    await revoke(revoked);

    vi.setSystemTime(readAt + SIGNING_KEY_REFRESH_MS - 1);
    expect(await signingKid()).toBe(revoked); // the copy predates the revocation
    vi.setSystemTime(readAt + SIGNING_KEY_REFRESH_MS);
    expect(await signingKid()).toBe(revoked); // answered from the copy; the refresh runs after it
    const next = await signingKid();
    expect(next).not.toBe(revoked);
    expect(next).toBe((await keyIn('current'))?.id);
  });

  it(`signs nothing with a revoked key once the copy is ${SIGNING_KEY_MAX_AGE_MS / 1000} s old, even with no request between`, async () => {
    const { readAt, kid: revoked } = await readSigningKeyNow();
    await revoke(revoked);

    vi.setSystemTime(readAt + SIGNING_KEY_MAX_AGE_MS);
    const token = await tokenFor(user);
    expect(decodeProtectedHeader(token).kid).not.toBe(revoked);
    expect(decodeProtectedHeader(token).kid).toBe((await keyIn('current'))?.id);
    await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);
    expect((await verifyWithJwks((await fetchJwks()).jwks, token)).payload.sub).toBe(user.id);
  });

  it('does not make a request wait for the refresh it starts', async () => {
    const { readAt, kid } = await readSigningKeyNow(SWITCHABLE_DATABASE);
    vi.setSystemTime(readAt + SIGNING_KEY_REFRESH_MS);
    const before = keyRefreshes();

    // The key-table read is held unanswered until the driver's query timeout.
    await withDatabaseFault('stall-key-reads', async () => {
      const { response, background } = await startWorker('/api/auth/token', tokenRequest(), SWITCHABLE_DATABASE);
      const whenAnswered = keyRefreshes();
      expect(response.status).toBe(200);
      expect(decodeProtectedHeader(((await response.json()) as { token: string }).token).kid).toBe(kid);
      expect(whenAnswered).toEqual({ started: before.started + 1, settled: before.settled });

      await background; // the held read times out; that is only logged
    });
    expect(keyRefreshes()).toEqual({ started: before.started + 1, settled: before.settled + 1 });
  });

  it(`answers 503 KEYS_UNAVAILABLE past ${SIGNING_KEY_MAX_AGE_MS / 1000} s when the key table cannot be read; the JWKS keeps serving`, async () => {
    const { readAt, kid } = await readSigningKeyNow(SWITCHABLE_DATABASE);
    vi.setSystemTime(readAt + SIGNING_KEY_MAX_AGE_MS);

    await withDatabaseFault('drop-key-reads', async () => {
      const response = await callWorker('/api/auth/token', tokenRequest(), SWITCHABLE_DATABASE);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({
        code: 'KEYS_UNAVAILABLE',
        message: expect.any(String),
        requestId: expect.any(String),
      });

      // Verifiers still get the public keys from their own copy, which lives longer.
      await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);
      const { jwks } = await fetchJwks('/api/auth/jwks', SWITCHABLE_DATABASE);
      expect(jwks.keys.map((key) => key.kid)).toContain(kid);
    });

    // Once the key table answers, tokens come again.
    expect(await signingKid(SWITCHABLE_DATABASE)).toBe(kid);
  });
});

describe('a cold isolate that cannot open the current private key', () => {
  const OTHER_SECRET = 'not-the-secret-the-keys-were-encrypted-with-0123';
  const CASES: Array<{ name: string; overrides: EnvOverrides; corruptRow?: true }> = [
    {
      name: 'BETTER_AUTH_SECRET changed without BETTER_AUTH_PREVIOUS_SECRET',
      overrides: { BETTER_AUTH_SECRET: OTHER_SECRET },
    },
    { name: 'the current key row is corrupt', overrides: {}, corruptRow: true },
  ];

  // Regression: the isolate copy once held the public keys and the decrypted
  // signing key together, so a key it could not decrypt took the JWKS down too.
  it.each(CASES)(
    'still serves the JWKS; tokens answer 503 KEYS_UNAVAILABLE ($name)',
    async ({ overrides, corruptRow }) => {
      await tokenFor(user); // a key store with a signing key
      const current = await keyIn('current');
      if (!current) throw new Error('no signing key');
      const setPrivateKey = (privateKey: string) =>
        withDb((db) => db.update(jwks).set({ privateKey }).where(eq(jwks.id, current.id)));
      if (corruptRow) await setPrivateKey('not a sealed key');
      try {
        forgetKeySnapshots();
        await caches.default.delete(`${TEST_AUTH_URL}/api/auth/jwks`);

        const decryptions = privateKeyDecryptions();
        const { jwks: published } = await fetchJwks('/api/auth/jwks', overrides);
        expect(published.keys.map((key) => key.kid)).toEqual((await keys()).map((key) => key.id));
        expect(privateKeyDecryptions()).toBe(decryptions);

        // A bearer session: a changed secret also signs cookie sessions out.
        const bearer = { headers: { authorization: `Bearer ${user.sessionToken}` } };
        const response = await callWorker('/api/auth/token', bearer, overrides);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toMatchObject({ code: 'KEYS_UNAVAILABLE', requestId: expect.any(String) });
      } finally {
        if (corruptRow) await setPrivateKey(current.privateKey);
        await purgeKeyCaches(TEST_AUTH_URL);
      }
    },
  );
});

describe('GET /.well-known/openid-configuration', () => {
  it('configures a verifier from the issuer URL alone', async () => {
    const response = await callWorker('/.well-known/openid-configuration');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const discovery = await response.json();
    expect(discovery).toEqual({
      issuer: TEST_AUTH_URL,
      jwks_uri: `${TEST_AUTH_URL}/api/auth/jwks`,
      id_token_signing_alg_values_supported: expect.arrayContaining(['EdDSA']),
      subject_types_supported: ['public'],
      claims_supported: expect.arrayContaining(['sub', 'iss', 'aud', 'exp']),
    });
  });
});

describe('token issuance after warm-up', () => {
  it('costs at most the session lookup and no key decryption', async () => {
    await tokenFor(user);
    const work = databaseWork();
    const decryptions = privateKeyDecryptions();
    const token = await tokenFor(user);
    const after = databaseWork();
    expect(after.queries - work.queries).toBeLessThanOrEqual(1);
    expect(privateKeyDecryptions()).toBe(decryptions);
    expect((await verifyWithJwks((await fetchJwks()).jwks, token)).payload.sub).toBe(user.id);
  });
});

describe('keys at rest', () => {
  it('stores no private key in the clear', async () => {
    const stored = await keys();
    expect(stored.length).toBeGreaterThan(0);
    for (const key of stored) {
      expect(() => JSON.parse(key.privateKey)).toThrow();
      const privateJwk = JSON.parse(await symmetricDecrypt({ key: TEST_SECRET, data: key.privateKey }));
      expect(privateJwk.d).toEqual(expect.any(String));
      expect(key.privateKey).not.toContain(privateJwk.d);
      expect(key.publicKey).not.toContain('"d"');
    }
  });
});

describe('rotation', () => {
  it('publishes the next key ahead, retires the old one after its tokens and caches have expired', async () => {
    const old = await keyIn('current');
    if (!old?.activatedAt) throw new Error('no signing key');
    const tokenBefore = await tokenFor(user);
    expect(decodeProtectedHeader(tokenBefore).kid).toBe(old.id);

    // Due: the successor is published but does not sign yet.
    const published = new Date(
      Math.max(await latestKeyTime(), old.activatedAt.getTime() + SIGNING_KEY_LIFETIME_MS - PUBLISH_AHEAD_MS),
    );
    await runCron(published);
    const next = await keyIn('next');
    expect(next).toBeDefined();
    const { jwks: cachedByVerifier } = await fetchJwks();
    expect(cachedByVerifier.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([old.id, next?.id]));
    expect(decodeProtectedHeader(await tokenFor(user)).kid).toBe(old.id);

    // A run before PUBLISH_AHEAD has passed changes nothing.
    await runCron(new Date(published.getTime() + PUBLISH_AHEAD_MS - 1));
    expect((await keyIn('current'))?.id).toBe(old.id);

    // PUBLISH_AHEAD later the successor signs.
    await runCron(new Date(published.getTime() + PUBLISH_AHEAD_MS));
    expect((await keyIn('current'))?.id).toBe(next?.id);
    const tokenAfter = await tokenFor(user);
    expect(decodeProtectedHeader(tokenAfter).kid).toBe(next?.id);

    // A verifier holding the JWKS from before the switch verifies new tokens ...
    expect((await verifyWithJwks(cachedByVerifier, tokenAfter)).payload.sub).toBe(user.id);
    // ... and a fresh JWKS still verifies tokens signed before it.
    expect((await verifyWithJwks((await fetchJwks()).jwks, tokenBefore)).payload.sub).toBe(user.id);

    // The retired key leaves the JWKS after its retention.
    await runCron(new Date(published.getTime() + PUBLISH_AHEAD_MS + RETIRED_KEY_RETENTION_MS));
    const { jwks: afterRetention } = await fetchJwks();
    expect(afterRetention.keys.map((key) => key.kid)).not.toContain(old.id);
    await expect(verifyWithJwks(afterRetention, tokenBefore)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
  });

  it('creates one key when two isolates rotate at once', async () => {
    const current = await keyIn('current');
    if (!current?.activatedAt) throw new Error('no signing key');
    const due = new Date(Math.max(await latestKeyTime(), current.activatedAt.getTime() + SIGNING_KEY_LIFETIME_MS));
    const config = readConfig(env);
    const settings = { alg: config.jwtAlg, secrets: { current: config.secret, previous: undefined } };
    const isolates = [createDb(config.database), createDb(config.database)];
    const before = (await keys()).length;
    const reports = await Promise.all(isolates.map(({ db }) => rotateSigningKeys(db, settings, due)));
    await Promise.all(isolates.map(({ close }) => close()));
    expect(reports.flatMap((report) => report.created)).toHaveLength(1);
    expect((await keys()).length).toBe(before + 1);
    expect((await keys()).filter((key) => keyState(key) === 'next')).toHaveLength(1);
    await purgeKeyCaches(TEST_AUTH_URL);
  });

  it('refuses a second signing or waiting key at the database, even without the lock', async () => {
    const at = new Date(await latestKeyTime());
    const insert = (activatedAt: Date | null) =>
      withDb((db) =>
        db
          .insert(jwks)
          .values({ id: crypto.randomUUID(), publicKey: '{}', privateKey: 'x', createdAt: at, activatedAt }),
      );
    expect(await keyIn('current')).toBeDefined();
    await expect(insert(at)).rejects.toMatchObject({ cause: { code: '23505' } });
    if (!(await keyIn('next'))) await insert(null); // a waiting key, as the cron would leave it
    await expect(insert(null)).rejects.toMatchObject({ cause: { code: '23505' } });
  });

  it('changes JWT_ALG through the same publish-ahead path', async () => {
    const rs256: EnvOverrides = { JWT_ALG: 'RS256' };
    const start = await latestKeyTime();

    // The waiting EdDSA key never signed; it is replaced by an RS256 one.
    await runCron(new Date(start), rs256);
    const next = await keyIn('next');
    expect(next?.alg).toBe('RS256');
    expect(decodeProtectedHeader(await tokenFor(user, rs256)).alg).toBe('EdDSA');

    await runCron(new Date(start + PUBLISH_AHEAD_MS), rs256);
    const token = await tokenFor(user, rs256);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: next?.id });
    const { jwks } = await fetchJwks();
    expect(jwks.keys.find((key) => key.kid === next?.id)).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    expect((await verifyWithJwks(jwks, token)).payload.sub).toBe(user.id);

    // And back to EdDSA, leaving the default for the other test files.
    await runCron(new Date(start + PUBLISH_AHEAD_MS + 1));
    await runCron(new Date(start + 2 * PUBLISH_AHEAD_MS + 1));
    expect(decodeProtectedHeader(await tokenFor(user)).alg).toBe('EdDSA');
  });

  it('survives a change of BETTER_AUTH_SECRET with the previous secret kept', async () => {
    const newSecret = 'a-brand-new-secret-after-rotation-0123456789';
    const changing: EnvOverrides = { BETTER_AUTH_SECRET: newSecret, BETTER_AUTH_PREVIOUS_SECRET: TEST_SECRET };
    const at = new Date(await latestKeyTime());

    await runCron(at, changing); // re-encrypts every key with the new secret
    for (const key of await keys()) {
      await expect(symmetricDecrypt({ key: newSecret, data: key.privateKey })).resolves.toContain('"d"');
    }
    await purgeKeyCaches(TEST_AUTH_URL);
    // Cookies are signed with the secret, so a new secret signs cookie sessions
    // out; the session token as a bearer still works, and so do the keys.
    const newOnly = await callWorker(
      '/api/auth/token',
      { headers: { authorization: `Bearer ${user.sessionToken}` } },
      { BETTER_AUTH_SECRET: newSecret },
    );
    expect(newOnly.status).toBe(200);

    // Back to the suite's secret the same way.
    await runCron(at, { BETTER_AUTH_SECRET: TEST_SECRET, BETTER_AUTH_PREVIOUS_SECRET: newSecret });
    await purgeKeyCaches(TEST_AUTH_URL);
    expect((await callWorker('/api/auth/token', { headers: { cookie: user.cookie } })).status).toBe(200);
  });
});
