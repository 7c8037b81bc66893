// Database faults for the tests, as TCP proxies in front of Postgres. A test
// points DATABASE_URL at one; the Worker reaches it as it reaches the real
// database (the Neon driver through scripts/lib/ws-proxy.ts today), so the
// faults do not depend on the driver or the transport it uses. Each
// reproduces one way a database fails.
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

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

/** Every fault a test can point DATABASE_URL at: the proxies above, and a port nothing listens on. */
export type DatabaseFault = 'nothing-listens' | FaultMode;

/**
 * Nothing listens on port 1, and being below the ephemeral range it is never
 * the local end of some other connection either: connecting fails at once.
 */
export const DEAD_ADDRESS = '127.0.0.1:1';

/** `url` with its host and port replaced by `address` (host:port). */
export function withAddress(url: string, address: string): string {
  const copy = new URL(url);
  copy.host = address;
  return copy.toString();
}

function hostAndPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return `127.0.0.1:${port}`;
}

/** Closes `server` after ending every connection it accepted. */
function stopper(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** A Postgres ErrorResponse, as a server sends it when it refuses a connection. */
function postgresError(sqlstate: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0C${sqlstate}\0M${message}\0`, 'utf8'), Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
// Messages with which a connected client asks for data: Query, and Parse
// (which starts each statement the driver sends with parameters).
const QUERY_MESSAGES = new Set(['Q', 'P']);
// How a query names the key table (Drizzle quotes identifiers).
const KEY_TABLE = Buffer.from('"jwks"');

interface ClientMessage {
  /** The message type, or null for the untyped startup-phase messages. */
  type: string | null;
  bytes: Buffer;
}

/**
 * Splits a client's byte stream into Postgres messages: TCP may cut or join
 * them anywhere, and a fault must act on whole ones. Startup-phase messages
 * (an SSL or GSS request, then the startup message) have no type byte.
 */
function clientMessageSplitter(): (chunk: Buffer) => ClientMessage[] {
  let buffered = Buffer.alloc(0);
  let inStartup = true;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const messages: ClientMessage[] = [];
    for (;;) {
      if (buffered.length < (inStartup ? 8 : 5)) return messages;
      const length = inStartup ? buffered.readInt32BE(0) : 1 + buffered.readInt32BE(1);
      if (buffered.length < length) return messages;
      const bytes = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      if (inStartup) {
        const code = bytes.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) inStartup = false;
        messages.push({ type: null, bytes });
      } else {
        messages.push({ type: String.fromCharCode(bytes[0] ?? 0), bytes });
      }
    }
  };
}

/** What a forwarding fault does with one query: pass it on, drop the connection, or fall silent. */
type Verdict = 'pass' | 'drop' | 'stall';

function verdictFor(mode: FaultMode, query: Buffer, queryNumber: number, dropAtQuery: number): Verdict {
  switch (mode) {
    case 'drop-mid-query':
      return queryNumber >= dropAtQuery ? 'drop' : 'pass';
    case 'stall-after-startup':
      return 'stall';
    case 'drop-key-reads':
      return query.includes(KEY_TABLE) ? 'drop' : 'pass';
    case 'stall-key-reads':
      return query.includes(KEY_TABLE) ? 'stall' : 'pass';
    default:
      return 'pass';
  }
}

/** As Postgres at max_connections: an error for the startup message, then hang up. */
function refuse(client: Socket): void {
  const split = clientMessageSplitter();
  let refused = false;
  client.on('data', (chunk: Buffer) => {
    for (const message of split(chunk)) {
      if (refused) return;
      const code = message.bytes.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        client.write('N'); // no encryption here; the client goes on in the clear
      } else {
        refused = true;
        client.end(postgresError('53300', 'sorry, too many clients already'));
      }
    }
  });
}

/**
 * A working connection to the database until the fault's verdict on a query:
 * then the connection dies (the query never reaches the database), or the
 * client's messages stop reaching it from that query on.
 */
function forward(client: Socket, mode: FaultMode, databaseAddress: string, dropAtQuery: number): void {
  const database = connect(hostAndPort(databaseAddress));
  database.setNoDelay(true);
  database.pipe(client);
  database.on('error', () => client.destroy());
  // A client that says goodbye has its last messages delivered first; one
  // that vanishes (or is ended by stop()) takes its connection down with it.
  client.on('end', () => database.end());
  client.on('close', () => {
    if (!database.writableEnded) database.destroy();
  });

  const split = clientMessageSplitter();
  let stalled = false;
  let queries = 0;
  client.on('data', (chunk: Buffer) => {
    const passing: Buffer[] = [];
    for (const message of split(chunk)) {
      if (stalled) break;
      if (message.type !== null && QUERY_MESSAGES.has(message.type)) {
        queries++;
        const verdict = verdictFor(mode, message.bytes, queries, dropAtQuery);
        if (verdict === 'drop') {
          database.destroy();
          client.resetAndDestroy();
          return;
        }
        if (verdict === 'stall') {
          stalled = true;
          break;
        }
      }
      passing.push(message.bytes);
    }
    if (passing.length > 0) database.write(Buffer.concat(passing));
  });
}

/**
 * `dropAtQuery`: for drop-mid-query, the number of the query (1 = the first)
 * at which the connection dies; the ones before it reach the database.
 */
export async function startFaultProxy(mode: FaultMode, databaseAddress: string, dropAtQuery = 1) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'never-answer') {
      client.resume(); // accepts, reads, says nothing
    } else if (mode === 'refuse-connections') {
      refuse(client);
    } else {
      forward(client, mode, databaseAddress, dropAtQuery);
    }
  });
  return { address: await listen(server), stop: stopper(server, sockets) };
}

/**
 * A TCP route to the database that a test can send to a fault and back. The
 * isolate's key copies are per DATABASE_URL, so a test of what an isolate
 * does when the database it already read from fails needs one URL whose
 * database fails, not a second URL. New connections follow the route as set
 * at their start, and a switch ends the connections made before it; the route is set with `PUT /route` on the control address,
 * the body naming a destination ('database', or a fault).
 */
/** Time for the far end of a connection a switch ended to see it closed (loopback: far less). */
const SWITCH_GRACE_MS = 50;

export async function startSwitchableRoute(destinations: Record<'database' | DatabaseFault, string>) {
  let destination: keyof typeof destinations = 'database';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const onward = connect(hostAndPort(destinations[destination]));
    onward.setNoDelay(true);
    client.pipe(onward);
    onward.pipe(client);
    client.on('error', () => client.destroy()); // handled on 'close'
    client.on('close', () => {
      if (!onward.writableEnded) onward.destroy();
    });
    // Unreachable, or reset by a fault: passed on as a reset, as if the client
    // had met it directly.
    onward.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
  });

  const control = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      // Any local page could send this; a browser always says where from.
      if (request.headers.origin !== undefined) {
        response.writeHead(403).end('browser origins are refused');
        return;
      }
      if (request.method !== 'PUT' || request.url !== '/route' || !Object.hasOwn(destinations, body)) {
        response.writeHead(400).end(`PUT /route with one of: ${Object.keys(destinations).join(', ')}`);
        return;
      }
      destination = body as keyof typeof destinations;
      // The HTTP query endpoint keeps pooled connections, which would go on
      // reaching the old destination: a switch ends every connection made
      // before it, as a failing (or returning) database does, and answers
      // once they are closed, so the next request finds no stale one.
      const closing = [...sockets].map(
        (socket) =>
          new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve()))),
      );
      for (const socket of sockets) socket.resetAndDestroy();
      void Promise.all(closing)
        .then(() => new Promise((resolve) => setTimeout(resolve, SWITCH_GRACE_MS)))
        .then(() => response.writeHead(204).end());
    });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const { port: controlPort } = control.address() as { port: number };

  const stopRoute = stopper(server, sockets);
  return {
    address: await listen(server),
    control: `http://127.0.0.1:${controlPort}`,
    stop: async () => {
      control.closeAllConnections();
      await Promise.all([stopRoute(), new Promise<void>((resolve) => control.close(() => resolve()))]);
    },
  };
}
