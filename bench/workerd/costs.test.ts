// Measurements inside workerd for `npm run bench`: password hashing CPU, the
// cost of a per-request database connection and of a statement over HTTP,
// and the parts of a session read and a token. Each prints a line
// `BENCH {"label","value"}` that bench/run.ts copies into bench/RESULTS.md.
// Assertions check results only, never timings.
//
// Local workerd advances its clock during computation (the deployed runtime
// does not), and scrypt runs synchronously on the isolate's thread, so the
// wall time of a hash here is its CPU time on this machine.
import { env } from 'cloudflare:test';
import { hashPassword as betterAuthHash, verifyPassword as betterAuthVerify } from 'better-auth/crypto';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config';
import { createDb } from '../../src/db/client';
import {
  DEFAULT_PASSWORD_HASH_PARAMS,
  hashPassword,
  type PasswordHashParams,
  verifyPassword,
} from '../../src/password';
import { RATE_LIMITS } from '../../src/rate-limit';
import { betterAuthFor, callWorker, postJson, signUp, uniqueEmail } from '../../test/helpers';

const SMOKE = (env as unknown as { BENCH_SMOKE?: string }).BENCH_SMOKE === '1';
const ROUNDS = SMOKE ? 2 : 20;

function report(label: string, value: string): void {
  console.log(`BENCH ${JSON.stringify({ label, value })}`);
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;

async function timed<T>(rounds: number, run: () => Promise<T>): Promise<{ median: number; mean: number }> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return { median: median(times), mean: times.reduce((sum, time) => sum + time, 0) / times.length };
}

const describeTime = ({ median, mean }: { median: number; mean: number }) =>
  `median ${median.toFixed(1)} ms, mean ${mean.toFixed(1)} ms (${ROUNDS} rounds)`;

/**
 * For calls shorter than the clock's millisecond: the mean of a batch of
 * calls timed together, as the median over batches.
 */
const PER_CALL_BATCHES = SMOKE ? 1 : 5;
const CALLS_PER_BATCH = SMOKE ? 2 : 100;

async function perCall(run: () => Promise<unknown>): Promise<string> {
  const means: number[] = [];
  for (let batch = 0; batch < PER_CALL_BATCHES; batch++) {
    const started = performance.now();
    for (let call = 0; call < CALLS_PER_BATCH; call++) await run();
    means.push((performance.now() - started) / CALLS_PER_BATCH);
  }
  return `${median(means).toFixed(2)} ms per call (median of ${PER_CALL_BATCHES} batches of ${CALLS_PER_BATCH})`;
}

/** Tells this run's rate-limit keys apart from an earlier run's. */
const RUN = crypto.randomUUID();

describe('password hashing CPU in workerd', () => {
  it("Better Auth's own hashPassword/verifyPassword (N=16384 r=16 p=1)", async () => {
    const hash = await betterAuthHash('correct horse battery');
    report('Better Auth hashPassword (N=16384 r=16 p=1)', describeTime(await timed(ROUNDS, () => betterAuthHash('x'))));
    const verify = await timed(ROUNDS, () => betterAuthVerify({ hash, password: 'correct horse battery' }));
    report('Better Auth verifyPassword', describeTime(verify));
    expect(await betterAuthVerify({ hash, password: 'correct horse battery' })).toBe(true);
  });

  const variants: PasswordHashParams[] = [
    DEFAULT_PASSWORD_HASH_PARAMS,
    { N: 16384, r: 8, p: 1 },
    { N: 8192, r: 8, p: 1 },
    { N: 4096, r: 8, p: 1 },
    { N: 32768, r: 16, p: 1 },
  ];
  it.each(variants)('src/password.ts hash + verify with N=$N r=$r p=$p', async (params) => {
    const hash = await hashPassword('correct horse battery', params);
    const verify = await timed(ROUNDS, () => verifyPassword(hash, 'correct horse battery'));
    report(`src/password.ts verifyPassword N=${params.N} r=${params.r} p=${params.p}`, describeTime(verify));
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true);
  });

  it('a whole sign-in through the Worker (hash verify + queries + rate-limit calls)', async () => {
    const email = uniqueEmail('bench');
    const password = 'correct horse battery';
    expect((await postJson('/api/auth/sign-up/email', { email, password, name: 'Bench' })).status).toBe(200);
    const signIn = await timed(SMOKE ? 2 : 8, async () => {
      const response = await postJson('/api/auth/sign-in/email', { email, password });
      expect(response.status).toBe(200);
    });
    report('sign-in request, wall time in workerd (includes database round trips)', describeTime(signIn));
  });
});

describe('connection cost in workerd (Neon driver over the WebSocket proxy)', () => {
  it('a fresh pool: connect + authenticate + select 1, then a second select 1 on the same pool', async () => {
    // Without the HTTP query endpoint every statement takes the WebSocket
    // path, as a transaction does.
    const settings = { ...readConfig(env).database, httpProxy: undefined };
    const first: number[] = [];
    const second: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { db, close } = createDb(settings);
      let started = performance.now();
      await db.execute('select 1');
      first.push(performance.now() - started);
      started = performance.now();
      await db.execute('select 1');
      second.push(performance.now() - started);
      await close();
    }
    report(
      'first query on a fresh pool (WebSocket + Postgres startup + auth + query)',
      `median ${median(first).toFixed(1)} ms (${ROUNDS} rounds)`,
    );
    report('second query on the same pool', `median ${median(second).toFixed(1)} ms (${ROUNDS} rounds)`);
    expect(first.length).toBe(ROUNDS);
  });

  it('a single statement over the HTTP query path (what a session read and a token send)', async () => {
    const { db } = createDb(readConfig(env).database);
    report('select 1 over the local HTTP query endpoint', await perCall(() => db.execute('select 1')));
    expect(await db.execute('select 1')).toBeDefined();
  });
});

describe("what a token adds to a session read, and a session read's parts, in workerd", () => {
  it("one Rate Limiting binding call (miniflare's local stand-in; a token makes two)", async () => {
    const limiter = (env as unknown as Env).TOKEN_IP_LIMIT;
    let key = 0;
    // Fresh keys, so no call is refused: the cost measured is the count itself.
    report('one Rate Limiting binding call', await perCall(() => limiter.limit({ key: `bench-${RUN}-${key++}` })));
    expect((await limiter.limit({ key: `bench-${RUN}-last` })).success).toBe(true);
  });

  it("a token's two binding calls, one after the other and at once (as the Worker makes them)", async () => {
    const { TOKEN_IP_LIMIT: perIp, TOKEN_SESSION_LIMIT: perSession } = env as unknown as Env;
    let key = 0;
    report(
      'two binding calls, one after the other',
      await perCall(async () => {
        await perIp.limit({ key: `bench-${RUN}-ip-${key}` });
        await perSession.limit({ key: `bench-${RUN}-session-${key++}` });
      }),
    );
    const bothAtOnce = () =>
      Promise.all([
        perIp.limit({ key: `bench-${RUN}-ip-${key}` }),
        perSession.limit({ key: `bench-${RUN}-session-${key++}` }),
      ]);
    report('two binding calls at once', await perCall(bothAtOnce));
    expect((await bothAtOnce()).every((outcome) => outcome.success)).toBe(true);
  });

  it("a session read and a token through the Worker's fetch handler, the token with miniflare's binding stand-in and with bindings that answer at once", async () => {
    // The token calls spread over enough sessions that each uses at most half its budget (60 a
    // minute); each call has its own IP. callWorker also waits for the request's waitUntil work,
    // as the tests do.
    const tokenCalls = PER_CALL_BATCHES * CALLS_PER_BATCH;
    const sessions = Math.ceil(tokenCalls / (RATE_LIMITS.token.perAccount.limit / 2));
    const users = await Promise.all(Array.from({ length: sessions }, () => signUp()));
    let next = 0;
    const statuses = new Set<number>();
    const call =
      (path: string, overrides = {}) =>
      async () => {
        const user = users[next++ % users.length] as (typeof users)[number];
        const response = await callWorker(
          path,
          { headers: { authorization: `Bearer ${user.sessionToken}` } },
          overrides,
        );
        statuses.add(response.status);
        await response.arrayBuffer();
      };
    const answersAtOnce = { limit: async () => ({ success: true }) } as unknown as RateLimit;
    report('a session read through the Worker', await perCall(call('/api/auth/get-session')));
    report("a token through the Worker (miniflare's binding stand-in)", await perCall(call('/api/auth/token')));
    report(
      'a token through the Worker, bindings that answer at once',
      await perCall(call('/api/auth/token', { TOKEN_IP_LIMIT: answersAtOnce, TOKEN_SESSION_LIMIT: answersAtOnce })),
    );
    expect([...statuses]).toEqual([200]);
  });

  it('a session read through Better Auth: the instance built per request, and the read itself', async () => {
    const user = await signUp();
    const headers = new Headers({ authorization: `Bearer ${user.sessionToken}` });
    report(
      "Better Auth's instance for one request (options, plugins, betterAuth())",
      await perCall(async () => betterAuthFor()),
    );
    report(
      'a session read on a fresh instance (as each request does)',
      await perCall(() => betterAuthFor().api.getSession({ headers })),
    );
    const instance = betterAuthFor();
    report(
      'a session read on an instance kept from an earlier read',
      await perCall(() => instance.api.getSession({ headers })),
    );
    expect((await instance.api.getSession({ headers }))?.user.id).toBe(user.id);
  });
});
