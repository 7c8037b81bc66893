import { describe, expect, it } from 'vitest';
import { callWorker, signUp } from './helpers';

// BENCH_DATABASE_STATS=1 (npm run bench) reports each request's database work;
// the config tests check that it is refused unless the Worker is on localhost.
const LOCAL_BENCH = { BENCH_DATABASE_STATS: '1', BETTER_AUTH_URL: 'http://localhost:8794' };

describe('database stats header for benchmarks', () => {
  it('is absent unless BENCH_DATABASE_STATS=1', async () => {
    const user = await signUp();
    const response = await callWorker('/api/auth/session', {
      headers: { authorization: `Bearer ${user.sessionToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('server-timing')).toBeNull();
  });

  it("counts the queries, connections and HTTP statements of a request, and the Worker's own time", async () => {
    const user = await signUp();
    const session = await callWorker(
      '/api/auth/get-session',
      { headers: { authorization: `Bearer ${user.sessionToken}` } },
      LOCAL_BENCH,
    );
    expect(session.status).toBe(200);
    // A session read is one query, the session joined with its user, sent
    // over HTTP: one round trip, no WebSocket connection.
    expect(session.headers.get('server-timing')).toMatch(/^db;desc="queries=1 connections=0 http=1", worker;dur=\d+$/);

    const health = await callWorker('/health', {}, LOCAL_BENCH);
    expect(health.headers.get('server-timing')).toMatch(/^db;desc="queries=0 connections=0 http=0", worker;dur=\d+$/);
  });

  it('issues a token with no WebSocket connection', async () => {
    const user = await signUp();
    const headers = { authorization: `Bearer ${user.sessionToken}` };
    // The first token of an isolate may read the signing keys; the next one must not.
    expect((await callWorker('/api/auth/token', { headers }, LOCAL_BENCH)).status).toBe(200);
    const token = await callWorker('/api/auth/token', { headers }, LOCAL_BENCH);
    expect(token.status).toBe(200);
    expect(token.headers.get('server-timing')).toMatch(/^db;desc="queries=1 connections=0 http=1", worker;dur=\d+$/);
  });
});
