// The HTTP query endpoint of `npm run dev` and the tests runs statements on a
// Postgres whose user may be a superuser, as the WebSocket proxy does, and is
// guarded the same way (ws-proxy.test.ts): a page in a browser always sends
// Origin and the Worker's driver never does, so any Origin is refused; the
// path must hold this run's secret; only the configured database is reached.
import { neon, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { type SqlOverHttp, startSqlOverHttp } from '../../scripts/lib/sql-over-http.ts';
import { postgresAddress } from '../../scripts/lib/ws-proxy.ts';

let database: EmbeddedPostgres;
let endpoint: SqlOverHttp;
let listening: string;
let secret: string;

/** A request as the Neon driver sends it, with what a case changes. */
function post(
  url: string,
  options: { headers?: Record<string, string>; body?: unknown; method?: string; connectionString?: string } = {},
) {
  return fetch(url, {
    method: options.method ?? 'POST',
    headers: {
      'Neon-Connection-String': options.connectionString ?? database.url,
      'Neon-Raw-Text-Output': 'true',
      'Neon-Array-Mode': 'true',
      ...options.headers,
    },
    body: options.method === 'GET' ? undefined : JSON.stringify(options.body ?? { query: 'select 1', params: [] }),
  });
}

beforeAll(async () => {
  database = await startEmbeddedPostgres();
  endpoint = await startSqlOverHttp({ targets: [postgresAddress(database.url)] });
  const slash = endpoint.address.indexOf('/');
  listening = endpoint.address.slice(0, slash);
  secret = endpoint.address.slice(slash + 1);
});

afterAll(async () => {
  await endpoint?.stop();
  await database?.stop();
});

describe('the HTTP query endpoint', () => {
  it('hands out a loopback address with a long random secret, new on every start', async () => {
    expect(endpoint.address).toMatch(/^127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43,}$/);
    const another = await startSqlOverHttp({ targets: [postgresAddress(database.url)] });
    await another.stop();
    expect(another.address.split('/')[1]).not.toBe(secret);
  });

  it.each(['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080', 'null', 'https://attacker.example'])(
    'refuses a request with Origin %s, even with the secret',
    async (origin) => {
      const response = await post(`http://${endpoint.address}/sql`, { headers: { origin } });
      expect(response.status).toBe(403);
    },
  );

  it.each([
    ['no secret', () => `http://${listening}/sql`],
    ['a wrong secret', () => `http://${listening}/${'A'.repeat(secret.length)}/sql`],
    ['a prefix of the secret', () => `http://${listening}/${secret.slice(0, -1)}/sql`],
    ['the secret in the query', () => `http://${listening}/sql?secret=${secret}`],
  ])('refuses a request with %s', async (_case, url) => {
    expect((await post(url())).status).toBe(403);
  });

  it('refuses to connect anywhere but the configured database', async () => {
    const elsewhere = new URL(database.url);
    elsewhere.port = '5432';
    const response = await post(`http://${endpoint.address}/sql`, { connectionString: elsewhere.toString() });
    expect(response.status).toBe(403);
  });

  it.each([
    ['a GET', { method: 'GET' }],
    ['a batch', { body: { queries: [{ query: 'select 1', params: [] }] } }],
    ['a body that is not a statement', { body: { query: 42 } }],
  ])('refuses %s', async (_case, options) => {
    const response = await post(`http://${endpoint.address}/sql`, options);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("with the secret and no Origin, answers the Neon driver's neon() (as the Worker sends it)", async () => {
    neonConfig.fetchEndpoint = `http://${endpoint.address}/sql`;
    const sql = neon(database.url, { fullResults: true });
    const result = await sql.query('select current_user as "user", $1::int * 7 as answer, $2::text as nothing', [
      6,
      null,
    ]);
    expect(result.rows).toEqual([{ user: 'postgres', answer: 42, nothing: null }]);
    const failure = await sql.query('select 1 / 0').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '22012' });
  });
});
