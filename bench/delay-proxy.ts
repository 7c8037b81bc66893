// A network model for `npm run bench -- --db-rtt 20,60`: a TCP proxy in front
// of Postgres that holds every byte for half the round-trip time in each
// direction, in order. The WebSocket proxy and the HTTP query endpoint both
// reach the database through it, so every protocol round trip between a
// driver (or the endpoint's pooled connection) and Postgres pays the RTT once,
// whichever path a statement takes.
import { connect, createServer, type Socket } from 'node:net';

export interface DelayProxy {
  /** host:port to put in a DATABASE_URL. */
  address: string;
  stop: () => Promise<void>;
}

/** Sends what `from` says to `to` after `delayMs`; equal delays keep the order. */
function delayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  // A hang-up travels as late as the bytes before it.
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

export async function startDelayProxy(target: string, rttMs: number): Promise<DelayProxy> {
  const colon = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, colon), Number(target.slice(colon + 1))];
  const oneWay = rttMs / 2;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const database = connect({ host, port });
    for (const socket of [client, database]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
    }
    delayed(client, database, oneWay);
    delayed(database, client, oneWay);
    client.on('error', () => database.destroy());
    database.on('error', () => client.destroy());
    client.on('close', () => setTimeout(() => database.destroy(), oneWay));
    database.on('close', () => setTimeout(() => client.destroy(), oneWay));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port: listening } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${listening}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
