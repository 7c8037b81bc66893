// `npm run dev` as a developer runs it, on a temporary data folder: what it
// leaves readable, what it opens on this machine, and what it cleans up.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const ROOT = new URL('../..', import.meta.url).pathname;
const BROWSER_ORIGIN = 'http://localhost:3000';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every live process in a process group (Linux /proc; zombies do not count). */
function processGroup(groupId: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // pid (comm) state ppid pgrp ...; comm may contain spaces.
        const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state !== 'Z' && Number(group) === groupId;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

async function groupGone(groupId: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (processGroup(groupId).length > 0) {
    if (Date.now() > deadline) throw new Error(`process group ${groupId} still running`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** TCP ports these processes listen on (Linux /proc). */
function listeningPorts(pids: number[]): number[] {
  const sockets = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) sockets.add(inode);
      } catch {}
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local = '', , state, , , , , , inode = ''] = line.trim().split(/\s+/);
      const LISTEN = '0A';
      if (state === LISTEN && sockets.has(inode))
        ports.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return [...ports];
}

/** What a page on another local origin gets from a port: a DevTools target list, or an accepted WebSocket. */
async function whatABrowserGets(port: number): Promise<string[]> {
  const found: string[] = [];
  try {
    const response = await fetch(`http://127.0.0.1:${port}/json`, {
      headers: { origin: BROWSER_ORIGIN },
      signal: AbortSignal.timeout(3_000),
    });
    if ((await response.text()).includes('webSocketDebuggerUrl')) found.push(`${port}: DevTools targets at /json`);
  } catch {
    // refused, hung up or silent: nothing for the page
  }
  // A statement as a page would POST it to the HTTP query endpoint (a form
  // needs no preflight), without the secret it cannot know.
  try {
    const response = await fetch(`http://127.0.0.1:${port}/sql`, {
      method: 'POST',
      headers: { origin: BROWSER_ORIGIN, 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'select 1', params: [] }),
      signal: AbortSignal.timeout(3_000),
    });
    if ((await response.text()).includes('rowCount')) found.push(`${port}: a statement ran at /sql`);
  } catch {
    // refused, hung up or silent: nothing for the page
  }
  for (const path of ['/', '/ws']) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
        headers: { origin: BROWSER_ORIGIN, 'user-agent': 'Mozilla/5.0' },
        handshakeTimeout: 3_000,
      });
      socket.once('open', () => {
        socket.terminate();
        resolve(true);
      });
      socket.once('unexpected-response', (request) => {
        request.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) found.push(`${port}: WebSocket accepted at ${path}`);
  }
  return found;
}

describe('npm run dev', () => {
  let dataDir: string;
  let envFile: string;
  let logFile: string;
  let server: ChildProcess;
  let port: number;
  let groupId: number;

  beforeAll(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'auth-worker-dev-test-'));
    dataDir = join(scratch, 'data');
    envFile = join(dataDir, 'wrangler-dev.env');
    logFile = join(scratch, 'dev.log');
    // Left by an older version or a crash: readable by everyone.
    mkdirSync(dataDir, { mode: 0o755 });
    writeFileSync(envFile, 'LEFT_OVER=1\n', { mode: 0o644 });

    port = await freePort();
    const output = openSync(logFile, 'w');
    server = spawn('npm', ['run', 'dev'], {
      cwd: ROOT,
      detached: true, // its own process group: one signal stops npm, the script, wrangler and workerd
      stdio: ['ignore', output, output],
      env: { ...process.env, PORT: String(port), AUTH_WORKER_DATA_DIR: dataDir, WRANGLER_SEND_METRICS: 'false' },
    });
    groupId = server.pid ?? 0;
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`npm run dev exited:\n${readFileSync(logFile, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`npm run dev did not start:\n${readFileSync(logFile, 'utf8')}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });

  afterAll(async () => {
    if (groupId && processGroup(groupId).length > 0) {
      process.kill(-groupId, 'SIGKILL');
      await groupGone(groupId);
    }
    if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('serves the JWKS from the embedded database, through the guarded proxy', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/auth/jwks`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it('keeps its data folder to this user', () => {
    expect(modeOf(dataDir)).toBe(0o700);
  });

  it('writes the env file 0600, over a looser one left from before', () => {
    expect(modeOf(envFile)).toBe(0o600);
    const vars = parseEnv(readFileSync(envFile, 'utf8'));
    expect(vars.LEFT_OVER).toBeUndefined();
    expect(vars.DATABASE_WS_PROXY).toMatch(/^127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43,}$/);
    expect(vars.DATABASE_HTTP_PROXY).toMatch(/^127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43,}$/);
    expect(vars.DATABASE_HTTP_PROXY?.split('/')[1]).not.toBe(vars.DATABASE_WS_PROXY?.split('/')[1]);
  });

  it('opens nothing a page on another local origin can use: no DevTools, no WebSocket', async () => {
    const ports = listeningPorts(processGroup(groupId));
    expect(ports).toContain(port); // the listing works: the app's own port is in it
    const found = (await Promise.all(ports.map(whatABrowserGets))).flat();
    expect(found).toEqual([]);
  });

  it('on Ctrl-C removes the env file, the database URL and the lock, and never logged a secret', async () => {
    const vars = parseEnv(readFileSync(envFile, 'utf8'));
    const secrets = [
      vars.DATABASE_WS_PROXY?.split('/')[1],
      vars.DATABASE_HTTP_PROXY?.split('/')[1],
      new URL(vars.DATABASE_URL ?? '').password,
      vars.BETTER_AUTH_SECRET,
    ].filter((secret): secret is string => Boolean(secret));
    expect(secrets).toHaveLength(4);

    process.kill(-groupId, 'SIGINT');
    // npm exits first; the dev script is done when the whole group is.
    await groupGone(groupId);
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(dataDir, 'embedded-database-url'))).toBe(false);
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(false);
    const log = readFileSync(logFile, 'utf8');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
