// Database faults for the tests, as WebSocket proxies the Neon driver can be
// pointed at (DATABASE_WS_PROXY). Each reproduces one way a database fails.
// They sit on the same guarded server as the real proxy: no browser origin,
// this run's secret in the path.
import { connect } from 'node:net';
import type { WebSocket as WsSocket } from 'ws';
import { startGuardedWebSocketServer } from '../../scripts/lib/ws-proxy.ts';

export const FAULT_MODES = [
  'refuse-connections',
  'drop-mid-query',
  'never-answer',
  'stall-after-startup',
  // The two below fail only the reads of the signing-key table: a token
  // request reads its session on one connection and refreshes the keys on
  // another, so these reach the key refresh while the session read succeeds.
  'drop-key-reads',
  'stall-key-reads',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** A Postgres ErrorResponse, as a server sends it when it refuses a connection. */
function postgresError(sqlstate: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0C${sqlstate}\0M${message}\0`, 'utf8'), Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

// ReadyForQuery ('Z', length 5): the server is done with the startup exchange.
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5]);
// Messages a client sends once it is connected and asks for data.
const QUERY_MESSAGES = new Set(['Q', 'P']);
// How a query names the key table (Drizzle quotes identifiers). The driver
// coalesces a query's messages into one WebSocket frame, so the text is there.
const KEY_TABLE = Buffer.from('"jwks"');

/**
 * `dropAtQuery`: for drop-mid-query, the number of the query (1 = the first)
 * at which the connection dies; the ones before it reach the database.
 */
export async function startFaultProxy(mode: FaultMode, databaseAddress: string, dropAtQuery = 1) {
  const onConnection = (ws: WsSocket) => {
    if (mode === 'never-answer') return; // accepts, reads, says nothing
    if (mode === 'refuse-connections') {
      // As Postgres at max_connections: an error for the startup message, then hang up.
      ws.once('message', () => {
        ws.send(postgresError('53300', 'sorry, too many clients already'));
        ws.close();
      });
      return;
    }
    // drop-mid-query: a working connection that dies when query number
    // `dropAtQuery` arrives; stall-after-startup: one that stops answering then.
    // drop-key-reads and stall-key-reads: the same, at the first query that
    // reads the key table; other queries are answered.
    const [host, port] = databaseAddress.split(':') as [string, string];
    const tcp = connect({ host, port: Number(port) });
    let startupDone = false;
    let stalled = false;
    let queries = 0;
    ws.on('message', (data: Buffer) => {
      if (stalled) return;
      if (startupDone && QUERY_MESSAGES.has(String.fromCharCode(data[0] ?? 0))) {
        if (mode === 'stall-after-startup') return;
        if (mode === 'drop-key-reads' || mode === 'stall-key-reads') {
          if (data.includes(KEY_TABLE)) {
            if (mode === 'stall-key-reads') {
              stalled = true; // and everything after it on this connection
              return;
            }
            tcp.destroy();
            ws.terminate();
            return;
          }
          tcp.write(data);
          return;
        }
        queries++;
        if (queries >= dropAtQuery) {
          tcp.destroy();
          ws.terminate();
          return;
        }
      }
      tcp.write(data);
    });
    tcp.on('data', (data: Buffer) => {
      if (data.indexOf(READY_FOR_QUERY) !== -1) startupDone = true;
      ws.send(data);
    });
    tcp.on('error', () => ws.terminate());
    ws.on('close', () => tcp.destroy());
  };

  const server = await startGuardedWebSocketServer({ onConnection });
  return { address: server.address, stop: server.close };
}
