import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './data-dir-lock.ts';
import { startPasswordGate } from './postgres-password-gate.ts';

export interface EmbeddedPostgres {
  /**
   * A postgres:// URL for TCP clients (pg, drizzle-kit, the WebSocket proxy).
   * Its password is new on every start: log it only through redactedUrl.
   */
  url: string;
  stop: () => Promise<void>;
}

// PGlite is one Postgres session; pglite-socket multiplexes clients onto it,
// one statement (or one whole transaction) at a time. Its default of a single
// connection would make every second request wait, so allow plenty.
const MAX_CONNECTIONS = 1_000;

/**
 * Makes a data folder this user's only: folders 0700, files 0600. PGlite's
 * initdb writes its files 0666 whatever the umask (emscripten chmods what it
 * creates to the mode asked for), and folders follow the umask. Postgres
 * itself creates later files 0600, but a folder made by an older version
 * stays as it was, so this runs at every start and stop.
 */
function restrictToOwner(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dataDir, entry);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue; // chmod would follow it out of the folder
    chmodSync(path, stat.isDirectory() ? 0o700 : 0o600);
  }
}

/**
 * Starts PGlite served over the Postgres wire protocol on 127.0.0.1, to
 * clients with this run's password (see postgres-password-gate.ts).
 * With a dataDir the data persists there; without one it lives in memory.
 */
export async function startEmbeddedPostgres(options: { dataDir?: string } = {}): Promise<EmbeddedPostgres> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const { dataDir } = options;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      cleanups.push(await lockDataDir(dataDir));
    }
    const db = await PGlite.create(dataDir);
    cleanups.push(async () => {
      await db.close();
      if (dataDir) restrictToOwner(dataDir);
    });
    if (dataDir) restrictToOwner(dataDir);
    // mkdtemp makes the folder 0700: only this user can reach the socket in it.
    const socketDir = mkdtempSync(join(tmpdir(), 'auth-worker-pglite-'));
    cleanups.push(() => rmSync(socketDir, { recursive: true, force: true }));
    const server = new PGLiteSocketServer({ db, path: join(socketDir, 'socket'), maxConnections: MAX_CONNECTIONS });
    await server.start();
    cleanups.push(() => server.stop());
    const password = randomBytes(32).toString('base64url');
    const gate = await startPasswordGate({ upstreamPath: server.getServerConn(), password });
    cleanups.push(gate.stop);
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${gate.port}/postgres`,
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
