import { sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { CONNECT_TIMEOUT_MS, isDatabaseUnavailable, QUERY_TIMEOUT_MS } from '../src/db/client';
import { user as userTable } from '../src/db/schema';
import {
  callWorker,
  countUsersWithEmail,
  databaseFingerprint,
  type EnvOverrides,
  postJson,
  signUp,
  uniqueEmail,
  withDb,
} from './helpers';

const faults = inject('faultDatabaseUrls');
const httpFaults = inject('faultHttpProxies');

// Each fault is a DATABASE_URL leading to a database that fails in that way
// (test/setup/fault-proxies.ts), whatever the driver does to reach it. Single
// statements reach it over Neon's HTTP query path and transactions over a
// WebSocket; each fault is run again with the HTTP endpoint unset, so that
// every statement meets it over a WebSocket too.
interface Fault {
  name: string;
  overrides: EnvOverrides;
  /** False when only the HTTP query path fails: transactions (sign-up) still reach the database. */
  failsTransactions?: false;
}

const DATABASE_FAULTS: Fault[] = [
  { name: 'nothing listens on the port', overrides: { DATABASE_URL: faults['nothing-listens'] } },
  { name: 'the database refuses new connections', overrides: { DATABASE_URL: faults['refuse-connections'] } },
  { name: 'the connection drops mid-query', overrides: { DATABASE_URL: faults['drop-mid-query'] } },
  { name: 'the database never answers', overrides: { DATABASE_URL: faults['never-answer'] } },
  {
    name: 'the database stops answering after the startup',
    overrides: { DATABASE_URL: faults['stall-after-startup'] },
  },
];
const FAULTS: Fault[] = [
  ...DATABASE_FAULTS,
  ...DATABASE_FAULTS.map(({ name, overrides }) => ({
    name: `${name} (every statement over a WebSocket)`,
    overrides: { ...overrides, DATABASE_HTTP_PROXY: '' },
  })),
  // The HTTP query endpoint itself failing, in front of a healthy database.
  {
    name: 'nothing listens at the HTTP query endpoint',
    overrides: { DATABASE_HTTP_PROXY: httpFaults['nothing-listens'] },
    failsTransactions: false,
  },
  {
    name: 'the HTTP query endpoint never answers',
    overrides: { DATABASE_HTTP_PROXY: httpFaults['never-answers'] },
    failsTransactions: false,
  },
];

/** A 503 must come within one connect or one query bound plus a little work, never a hang. */
const BOUND_MS = Math.max(CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS) + 2_000;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe.each(FAULTS)('when $name', ({ overrides, failsTransactions = true }) => {
  it('sign-in answers 503 DATABASE_UNAVAILABLE within the bound, with Retry-After', async () => {
    const { result: response, ms } = await timed(() =>
      postJson('/api/auth/sign-in/email', { email: uniqueEmail(), password: 'whatever it is' }, {}, overrides),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE', requestId: expect.any(String) });
    expect(response.headers.get('retry-after')).toBe('5');
    expect(ms).toBeLessThan(BOUND_MS);
  });

  // Sign-up is one transaction, over a WebSocket: a fault of the HTTP path alone does not reach it.
  const signUpMeetsTheFault = failsTransactions;

  it(
    signUpMeetsTheFault
      ? 'sign-up answers 503 and writes nothing; the same request succeeds once the database is back'
      : 'sign-up, one transaction over a WebSocket, succeeds without the HTTP path',
    async () => {
      const email = uniqueEmail('fault');
      const body = { email, password: 'a good long password', name: 'Faulty' };
      const during = await postJson('/api/auth/sign-up/email', body, {}, overrides);
      if (!signUpMeetsTheFault) {
        expect(during.status).toBe(200);
        expect(await countUsersWithEmail(email)).toBe(1);
        return;
      }
      expect(during.status).toBe(503);
      expect(await countUsersWithEmail(email)).toBe(0);

      const after = await postJson('/api/auth/sign-up/email', body);
      expect(after.status).toBe(200);
      expect(await countUsersWithEmail(email)).toBe(1);
    },
  );

  it('session reads answer 503, /health keeps answering, /health/db reports it and recovers', async () => {
    const user = await signUp();
    const session = await callWorker('/api/auth/session', { headers: { cookie: user.cookie } }, overrides);
    expect(session.status).toBe(503);
    expect((await callWorker('/health', {}, overrides)).status).toBe(200);

    const unhealthy = await callWorker('/health/db', {}, overrides);
    expect(unhealthy.status).toBe(503);
    expect(await unhealthy.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });

    const healthy = await callWorker('/health/db');
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
    expect((await callWorker('/api/auth/session', { headers: { cookie: user.cookie } })).status).toBe(200);
  });
});

const refusing = inject('refusingDatabaseUrls');

// A PostgreSQL server refuses a connection at startup, each time with its own
// SQLSTATE; whatever the code, the request never had a database to work with.
const REFUSALS: Array<{ name: string; refusal: keyof NonNullable<typeof refusing> }> = [
  { name: 'the database does not allow connections (ALLOW_CONNECTIONS false)', refusal: 'connections-not-allowed' },
  { name: 'the role is at its CONNECTION LIMIT', refusal: 'role-at-connection-limit' },
  { name: 'the database was dropped', refusal: 'database-dropped' },
];

/** A refusal comes at once: anything near the connect bound means a timeout was waited out instead. */
const REFUSAL_BOUND_MS = CONNECT_TIMEOUT_MS / 2;

// The routes that read the session from the cookie.
const SESSION_READS = ['/api/auth/get-session', '/api/auth/session', '/api/auth/token', '/api/me'];

async function expectDatabaseUnavailable(response: Response, ms: number) {
  expect({ status: response.status, body: await response.json() }).toMatchObject({
    status: 503,
    body: { code: 'DATABASE_UNAVAILABLE', requestId: expect.any(String) },
  });
  expect(response.headers.get('retry-after')).toBe('5');
  expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
}

// PGlite is one embedded session that ignores the database and role a client
// asks for, so it has no way to refuse these; CI runs them on PostgreSQL.
describe.skipIf(refusing === null)('refusals by a PostgreSQL server (skipped on PGlite: it cannot refuse)', () => {
  describe.each(REFUSALS)('when $name', ({ refusal }) => {
    const overrides: EnvOverrides = { DATABASE_URL: refusing?.[refusal] };

    it.each(SESSION_READS)('%s with a valid session answers 503 at once, with Retry-After', async (path) => {
      const user = await signUp();
      const { result: response, ms } = await timed(() =>
        callWorker(path, { headers: { cookie: user.cookie } }, overrides),
      );
      await expectDatabaseUnavailable(response, ms);
      expect((await callWorker(path, { headers: { cookie: user.cookie } })).status).toBe(200);
    });

    it('sign-in answers 503 at once', async () => {
      const user = await signUp();
      const { result: response, ms } = await timed(() =>
        postJson('/api/auth/sign-in/email', { email: user.email, password: user.password }, {}, overrides),
      );
      await expectDatabaseUnavailable(response, ms);
    });

    it('sign-up answers 503 at once and writes nothing; the same request succeeds afterwards', async () => {
      const email = uniqueEmail('refused');
      const body = { email, password: 'a good long password', name: 'Refused' };
      const { result: response, ms } = await timed(() => postJson('/api/auth/sign-up/email', body, {}, overrides));
      await expectDatabaseUnavailable(response, ms);
      expect(await countUsersWithEmail(email)).toBe(0);
      expect((await postJson('/api/auth/sign-up/email', body)).status).toBe(200);
    });

    it('/health/db answers 503 at once and /health keeps answering', async () => {
      const { result: response, ms } = await timed(() => callWorker('/health/db', {}, overrides));
      await expectDatabaseUnavailable(response, ms);
      expect((await callWorker('/health', {}, overrides)).status).toBe(200);
    });
  });
});

describe('a connection lost partway through sign-up', () => {
  it.each(inject('dropAtQueryDatabaseUrls').map((databaseUrl, index) => ({ query: index + 1, databaseUrl })))(
    'at query $query leaves either a whole account or nothing',
    async ({ databaseUrl }) => {
      const email = uniqueEmail('atomic');
      const body = { email, password: 'a good long password', name: 'Atomic' };
      const before = await databaseFingerprint();
      const during = await postJson('/api/auth/sign-up/email', body, {}, { DATABASE_URL: databaseUrl });
      if (during.status === 503) {
        expect(await databaseFingerprint()).toBe(before);
        const again = await postJson('/api/auth/sign-up/email', body);
        expect(again.status).toBe(200);
      } else {
        expect(during.status).toBe(200);
      }
      const signIn = await postJson('/api/auth/sign-in/email', { email, password: body.password });
      expect(signIn.status).toBe(200);
    },
  );
});

describe('isDatabaseUnavailable', () => {
  it('is false for a failed statement and for a bug', async () => {
    const existing = await signUp();
    const duplicate = await withDb((db) =>
      db
        .insert(userTable)
        .values({ id: existing.id, name: 'x', email: uniqueEmail() })
        .catch((error: unknown) => error),
    );
    expect(duplicate).toMatchObject({ cause: { code: '23505' } });
    expect(isDatabaseUnavailable(duplicate)).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is not a function'))).toBe(false);
  });

  it('is false for a statement error that shares its SQLSTATE with a refused connection', async () => {
    // 55000 is also what a database with ALLOW_CONNECTIONS false answers at
    // startup; from a statement on a ready connection it means the statement.
    const failed = await withDb((db) =>
      db
        .transaction(async (tx) => {
          await tx.execute(sql`create temporary sequence never_advanced`);
          await tx.execute(sql`select currval('never_advanced')`);
        })
        .catch((error: unknown) => error),
    );
    expect(failed).toMatchObject({ cause: { code: '55000' } });
    expect(isDatabaseUnavailable(failed)).toBe(false);
  });
});
