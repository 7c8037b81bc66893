import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import type { RawData, WebSocket as WsSocket } from 'ws';

// Loaded through require so that Node's resolution picks ws's server build even
// when Vite (the test runner's global setup) resolves with browser conditions.
const { WebSocket, WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface WsProxy {
  /** host:port, the value for DATABASE_WS_PROXY. */
  address: string;
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

/**
 * A WebSocket-to-TCP proxy for the Neon driver (`wsProxy` setting), listening
 * on 127.0.0.1 only and forwarding only to the given Postgres addresses, so it
 * is never an open relay.
 */
export async function startWsProxy(options: { targets: string[]; port?: number }): Promise<WsProxy> {
  const allowed = new Set(options.targets);
  const sockets = new Set<Socket>();
  const server = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, path: '/v1' });

  server.on('connection', (ws: WsSocket, request) => {
    const target = new URL(request.url ?? '', 'http://proxy').searchParams.get('address') ?? '';
    if (!allowed.has(target)) {
      ws.close(1008, 'address not allowed');
      return;
    }
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
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
  });

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** host:port of a postgres:// URL, as the Neon driver asks the proxy for it. */
export function postgresAddress(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}`;
}
