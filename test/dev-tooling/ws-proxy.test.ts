// The WebSocket proxy of `npm run dev` and the tests reaches a Postgres whose
// user may be a superuser (a machine's own Postgres often trusts local
// connections as `postgres`). Regression: a page on another local origin
// opened a session through it and ran `COPY ... TO PROGRAM`. Browsers always
// send Origin on a WebSocket upgrade and workerd's driver sends none, so the
// proxy refuses any Origin, and it wants this run's secret in the path.
import { neonConfig, Pool } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { postgresAddress, startWsProxy, type WsProxy } from '../../scripts/lib/ws-proxy.ts';

/** The handshake's outcome: 101 when the proxy accepted the upgrade, else its HTTP status. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (request, response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    socket.once('error', reject);
  });
}

let database: EmbeddedPostgres;
let proxy: WsProxy;
let target: string;
/** host:port the proxy listens on, and the secret that follows it in DATABASE_WS_PROXY. */
let listening: string;
let secret: string;

beforeAll(async () => {
  database = await startEmbeddedPostgres();
  target = postgresAddress(database.url);
  proxy = await startWsProxy({ targets: [target] });
  const slash = proxy.address.indexOf('/');
  listening = slash === -1 ? proxy.address : proxy.address.slice(0, slash);
  secret = slash === -1 ? '' : proxy.address.slice(slash + 1);
});

afterAll(async () => {
  await proxy?.stop();
  await database?.stop();
});

describe('the WebSocket proxy', () => {
  it('hands out a loopback address with a long random secret, new on every start', async () => {
    expect(proxy.address).toMatch(/^127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43,}$/);
    const another = await startWsProxy({ targets: [target] });
    await another.stop();
    expect(another.address.split('/')[1]).not.toBe(secret);
  });

  it.each(['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080', 'null', 'https://attacker.example'])(
    'refuses an upgrade with Origin %s, even with the secret',
    async (origin) => {
      expect(await upgradeStatus(`ws://${proxy.address}/v1?address=${target}`, { origin })).toBe(403);
    },
  );

  it.each([
    ['no secret', () => `ws://${listening}/v1?address=${target}`],
    ['a wrong secret', () => `ws://${listening}/${'A'.repeat(secret.length || 43)}/v1?address=${target}`],
    ['a prefix of the secret', () => `ws://${listening}/${secret.slice(0, -1)}/v1?address=${target}`],
    ['the secret in the query', () => `ws://${listening}/v1?address=${target}&secret=${secret}`],
  ])('refuses an upgrade with %s', async (_case, url) => {
    expect(await upgradeStatus(url())).toBe(403);
  });

  it('refuses to forward anywhere but the configured database', async () => {
    expect(await upgradeStatus(`ws://${proxy.address}/v1?address=127.0.0.1:5432`)).toBe(403);
  });

  it('with the secret and no Origin, carries a real Postgres session (the Neon driver, as in the Worker)', async () => {
    // The settings src/db/client.ts uses, with Node's WebSocket client.
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.wsProxy = (host, port) => `${proxy.address}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const pool = new Pool({ connectionString: database.url });
    try {
      const { rows } = await pool.query('select current_user as "user", 6 * 7 as answer');
      expect(rows).toEqual([{ user: 'postgres', answer: 42 }]);
    } finally {
      await pool.end();
    }
  });
});
