// pglite-socket takes every client as the superuser `postgres`, with no
// password. So it listens on a Unix socket in a private folder, and this gate
// serves it on 127.0.0.1 only to clients that send the run's password. An
// HTTP request (what a browser page can send to any local port) is not a
// Postgres startup packet and is hung up on before a byte reaches PGlite.
import { timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';

const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
// Startup packets are small; "GET " read as a length is about 1.2 GB.
const MAX_STARTUP_LENGTH = 10_000;
const MAX_PASSWORD_MESSAGE_LENGTH = 1_024;
const PASSWORD_MESSAGE = 0x70; // 'p'
/** A client that has not authenticated by then is dropped. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;
/** AuthenticationCleartextPassword: 'R', length 8, code 3. */
const ASK_FOR_PASSWORD = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);

/** A Postgres ErrorResponse (FATAL), as a server sends it before hanging up. */
function fatalError(sqlstate: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

export interface PasswordGate {
  port: number;
  stop: () => Promise<void>;
}

/**
 * Reads the startup packet and the password itself, then hands the client to
 * `upstreamPath` with its startup packet, so the server's AuthenticationOk
 * follows our password request as it would on a real Postgres.
 */
export async function startPasswordGate(options: { upstreamPath: string; password: string }): Promise<PasswordGate> {
  const expected = Buffer.from(options.password);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const forward = (client: Socket, startup: Buffer, rest: Buffer) => {
    const upstream = connect(options.upstreamPath);
    track(upstream);
    upstream.write(startup);
    if (rest.length > 0) upstream.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  };

  const server = createServer((client) => {
    track(client);
    client.setNoDelay(true);
    const timer = setTimeout(() => client.destroy(), AUTHENTICATION_TIMEOUT_MS);
    const refuse = (sqlstate: string, message: string) => {
      clearTimeout(timer);
      client.off('data', onData);
      client.end(fatalError(sqlstate, message));
    };
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;

    function onData(chunk: Buffer): void {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!startup) {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (length < 8 || length > MAX_STARTUP_LENGTH) {
            // Not a Postgres client: hang up without a word.
            clearTimeout(timer);
            client.destroy();
            return;
          }
          if (buffered.length < length) return;
          const code = buffered.readInt32BE(4);
          const packet = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          if ((code === SSL_REQUEST || code === GSSENC_REQUEST) && length === 8) {
            client.write('N'); // no encryption on loopback; the client goes on in the clear
            continue;
          }
          if (code !== PROTOCOL_3) {
            refuse('08P01', 'unsupported frontend protocol');
            return;
          }
          startup = packet;
          client.write(ASK_FOR_PASSWORD);
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1);
        if (buffered[0] !== PASSWORD_MESSAGE || length < 5 || length > MAX_PASSWORD_MESSAGE_LENGTH) {
          refuse('08P01', 'expected a password message');
          return;
        }
        if (buffered.length < 1 + length) return;
        const given = buffered.subarray(5, length); // without the closing NUL
        const rest = buffered.subarray(1 + length);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          refuse('28P01', 'password authentication failed');
          return;
        }
        clearTimeout(timer);
        client.off('data', onData);
        forward(client, startup, rest);
        return;
      }
    }
    client.on('data', onData);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(0, '127.0.0.1');
  });
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
