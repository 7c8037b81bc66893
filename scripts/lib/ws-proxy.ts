import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket as WsSocket } from 'ws';

// Loaded through require so that Node's resolution picks ws's server build even
// when Vite (the test runner's global setup) resolves with browser conditions.
const { WebSocket, WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface WsProxy {
  /** host:port/secret, the value for DATABASE_WS_PROXY. It holds this run's secret: never log it. */
  address: string;
  /** host:port only, for logs. */
  listening: string;
  stop: () => Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const TERMINATE = 0x58; // 'X'
const TERMINATE_GRACE_MS = 1_000;

/**
 * Follows the client's side of the Postgres protocol just far enough to see
 * Terminate. The Neon driver sends Terminate and then waits for the server to
 * hang up; pglite-socket never does, so without this every connection would
 * stay open until the server runs out of them.
 */
function createTerminateDetector(): (chunk: Buffer) => boolean {
  let buffered = Buffer.alloc(0);
  let inStartup = true;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (inStartup) {
        // Startup-phase messages have no type byte: Int32 length, Int32 code.
        if (buffered.length < 8) return false;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return false;
        const code = buffered.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) inStartup = false;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return false;
      if (buffered[0] === TERMINATE) return true;
      const length = 1 + buffered.readInt32BE(1);
      if (buffered.length < length) return false;
      buffered = buffered.subarray(length);
    }
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** 32 random bytes, URL-safe: the path segment that admits a client for this run only. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseUpgrade(socket: Duplex, reason: string): void {
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
  );
}

export interface GuardedWebSocketServer {
  /** host:port/secret: what a client puts before `/v1?address=`. */
  address: string;
  /** host:port only, for logs. */
  listening: string;
  close: () => Promise<void>;
}

/**
 * A WebSocket server on 127.0.0.1 for local database proxies. A page in a
 * browser can reach any local port; what tells it apart is that a browser
 * always sends Origin on a WebSocket upgrade, and workerd's WebSocket client
 * (the Neon driver inside the Worker) sends none. So an upgrade that carries
 * Origin is refused, and so is one whose path lacks this run's random secret
 * (`/<secret>/v1`), which keeps out other local processes that do not have
 * the Worker's bindings. `refuse` may refuse a request for its own reasons.
 */
async function startGuardedWebSocketServer(options: {
  port?: number;
  refuse?: (url: URL) => string | undefined;
  onConnection: (ws: WsSocket, url: URL) => void;
}): Promise<GuardedWebSocketServer> {
  const secret = newSecret();
  const expectedPath = `/${secret}/v1`;
  const webSockets = new WebSocketServer({ noServer: true });
  const http = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('WebSocket upgrades only');
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://proxy');
    if (request.headers.origin !== undefined) return refuseUpgrade(socket, 'browser origins are refused');
    if (!constantTimeEqual(url.pathname, expectedPath)) return refuseUpgrade(socket, 'wrong or missing secret');
    const refusal = options.refuse?.(url);
    if (refusal) return refuseUpgrade(socket, refusal);
    webSockets.handleUpgrade(request, socket, head, (ws) => options.onConnection(ws, url));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('listening', resolve);
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1');
  });
  const { port } = http.address() as { port: number };
  return {
    address: `127.0.0.1:${port}/${secret}`,
    listening: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of webSockets.clients) client.terminate();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * A WebSocket-to-TCP proxy for the Neon driver (`wsProxy` setting) on a
 * guarded server (see startGuardedWebSocketServer), forwarding only to the
 * given Postgres addresses, so it is never an open relay.
 */
export async function startWsProxy(options: { targets: string[]; port?: number }): Promise<WsProxy> {
  const allowed = new Set(options.targets);
  const sockets = new Set<Socket>();
  const targetOf = (url: URL) => url.searchParams.get('address') ?? '';
  const server = await startGuardedWebSocketServer({
    port: options.port,
    refuse: (url) => (allowed.has(targetOf(url)) ? undefined : 'address not allowed'),
    onConnection: (ws, url) => {
      const target = targetOf(url);
      const [host, port] = [
        target.slice(0, target.lastIndexOf(':')),
        Number(target.slice(target.lastIndexOf(':') + 1)),
      ];
      const tcp = connect({ host, port });
      sockets.add(tcp);
      tcp.setNoDelay(true);
      const sawTerminate = createTerminateDetector();
      let terminated = false;
      const closeBoth = () => {
        tcp.destroy();
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      };

      ws.on('message', (data) => {
        const chunk = toBuffer(data);
        tcp.write(chunk);
        if (!terminated && sawTerminate(chunk)) {
          terminated = true;
          tcp.end();
        }
      });
      ws.on('close', () => tcp.destroy());
      ws.on('error', closeBoth);
      tcp.on('data', (data) => ws.readyState === WebSocket.OPEN && ws.send(data));
      tcp.on('close', () => {
        sockets.delete(tcp);
        // After Terminate the current driver closes the WebSocket itself; closing
        // it from here at the same moment makes workerd report a lost connection.
        // A client that waits for the server to hang up is closed after a grace.
        if (terminated) setTimeout(closeBoth, TERMINATE_GRACE_MS).unref();
        else closeBoth();
      });
      tcp.on('error', closeBoth);
    },
  });

  return {
    address: server.address,
    listening: server.listening,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await server.close();
    },
  };
}

/** host:port of a postgres:// URL, as the Neon driver asks the proxy for it. */
export function postgresAddress(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}`;
}
