import { describe, expect, inject, it } from 'vitest';
import { CONNECT_TIMEOUT_MS } from '../src/db/client';
import { callWorker, countUsersWithEmail, type EnvOverrides, postJson, signUp, uniqueEmail } from './helpers';

const faults = inject('faultProxies');

const FAULTS: Array<{ name: string; overrides: EnvOverrides }> = [
  { name: 'nothing listens on the port', overrides: { DATABASE_WS_PROXY: '127.0.0.1:1' } },
  { name: 'the database refuses new connections', overrides: { DATABASE_WS_PROXY: faults['refuse-connections'] } },
  { name: 'the connection drops mid-query', overrides: { DATABASE_WS_PROXY: faults['drop-mid-query'] } },
  { name: 'the database never answers', overrides: { DATABASE_WS_PROXY: faults['never-answer'] } },
];

/** A 503 must come within the connect bound plus a little work, never a hang. */
const BOUND_MS = CONNECT_TIMEOUT_MS + 2_000;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe.each(FAULTS)('when $name', ({ overrides }) => {
  it('sign-in answers 503 DATABASE_UNAVAILABLE within the bound, with Retry-After', async () => {
    const { result: response, ms } = await timed(() =>
      postJson('/api/auth/sign-in/email', { email: uniqueEmail(), password: 'whatever it is' }, {}, overrides),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE', requestId: expect.any(String) });
    expect(response.headers.get('retry-after')).toBe('5');
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('sign-up answers 503 and writes nothing; the same request succeeds once the database is back', async () => {
    const email = uniqueEmail('fault');
    const body = { email, password: 'a good long password', name: 'Faulty' };
    const during = await postJson('/api/auth/sign-up/email', body, {}, overrides);
    expect(during.status).toBe(503);
    expect(await countUsersWithEmail(email)).toBe(0);

    const after = await postJson('/api/auth/sign-up/email', body);
    expect(after.status).toBe(200);
    expect(await countUsersWithEmail(email)).toBe(1);
  });

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
