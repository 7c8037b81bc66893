// The embedded Postgres of `npm run dev` and the tests: who may connect, who
// may read its files.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';

async function connectionError(url: string): Promise<{ code?: string } | undefined> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error as { code?: string };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Files not 0600 and folders not 0700 under `root` (itself included), as "path mode". */
function looserThanOwnerOnly(root: string): string[] {
  const loose: string[] = [];
  const entries = [root, ...readdirSync(root, { recursive: true, encoding: 'utf8' }).map((entry) => join(root, entry))];
  for (const path of entries) {
    const stat = statSync(path);
    const mode = stat.mode & 0o777;
    if (mode !== (stat.isDirectory() ? 0o700 : 0o600)) loose.push(`${relative(root, path) || '.'} ${mode.toString(8)}`);
  }
  return loose;
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Resolves with what the server answered once it hangs up; rejects if it keeps the connection open. */
function answerToHttp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept an HTTP request waiting instead of refusing it'));
    }, 3_000);
    socket.on('data', (data) => {
      answer += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nOrigin: http://localhost:3000\r\n\r\n`);
  });
}

describe('who may connect to the embedded Postgres', () => {
  let database: EmbeddedPostgres;
  beforeAll(async () => {
    database = await startEmbeddedPostgres();
  });
  afterAll(async () => {
    await database?.stop();
  });

  it("hands out a loopback URL whose password is this run's long random secret", async () => {
    const url = new URL(database.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(decodeURIComponent(url.password)).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const another = await startEmbeddedPostgres();
    await another.stop();
    expect(new URL(another.url).password).not.toBe(url.password);
  });

  it('serves a client with the password', async () => {
    expect(await connectionError(database.url)).toBeUndefined();
  });

  it.each([
    ['no password', ''],
    ['a wrong password', 'not-the-secret'],
  ])('refuses a client with %s (28P01)', async (_case, password) => {
    const url = new URL(database.url);
    url.password = password;
    const error = await connectionError(url.toString());
    expect(error?.code ?? String(error)).toBe('28P01');
  });

  it('hangs up on an HTTP request at once, answering nothing a browser could read', async () => {
    const url = new URL(database.url);
    const answer = await answerToHttp(url.hostname, Number(url.port));
    expect(answer).not.toMatch(/^HTTP/);
  });
});

describe('the data folder', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'auth-worker-pglite-test-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  // Regression: PGlite's initdb wrote every file 0666 whatever the umask.
  it("is this user's only, files 0600 and folders 0700, from the first start and as it grows", async () => {
    const dataDir = join(scratch, 'fresh');
    const database = await startEmbeddedPostgres({ dataDir });
    try {
      expect(looserThanOwnerOnly(dataDir)).toEqual([]);
      await run(database.url, 'create table grows (n int); insert into grows select generate_series(1, 10000)');
    } finally {
      await database.stop();
    }
    expect(looserThanOwnerOnly(dataDir)).toEqual([]);
  });

  it('is made owner-only at start when an older version left it open', async () => {
    const dataDir = join(scratch, 'older');
    await (await startEmbeddedPostgres({ dataDir })).stop();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'base'), 0o777);
    chmodSync(join(dataDir, 'PG_VERSION'), 0o666);
    chmodSync(join(dataDir, 'postgresql.conf'), 0o644);
    const database = await startEmbeddedPostgres({ dataDir });
    try {
      expect(looserThanOwnerOnly(dataDir)).toEqual([]);
    } finally {
      await database.stop();
    }
  });
});

const ROOT = new URL('../..', import.meta.url).pathname;
const SECOND_SERVER = new URL('./fixtures/second-server.ts', import.meta.url).pathname;

/** Another server in its own process; it tries the folder once told to go. */
function secondServer(dataDir: string) {
  const child = spawn(`${ROOT}node_modules/.bin/tsx`, [SECOND_SERVER, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const said = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const line = output.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) resolve(line);
      };
      child.stdout?.on('data', look);
      child.once('exit', (code) => reject(new Error(`the second server exited (${code}) saying: ${output}`)));
      look();
    });
  child.stdout?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  const exited = once(child, 'exit');
  return {
    ready: said(/^ready$/),
    outcome: said(/^(started|refused: )/),
    go: () => child.stdin?.write('go\n'),
    /** Ends its stdin, so a started server stops and unlocks; kills it if it does not. */
    stop: async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.exitCode === null && child.signalCode === null) await exited;
      clearTimeout(timer);
    },
  };
}

/** The pid of a process that has exited: what a crashed server leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid ?? 0;
}

describe('the data folder lock', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'auth-worker-lock-test-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a second server while the first runs, and lets one in once it stopped', async () => {
    const dataDir = join(scratch, 'shared');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(`in use by process ${process.pid}`);
    } finally {
      await first.stop();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    await (await startEmbeddedPostgres({ dataDir })).stop();
  });

  it('takes over a lock whose process is gone', async () => {
    const dataDir = join(scratch, 'crashed');
    mkdirSync(dataDir);
    writeFileSync(`${dataDir}.lock`, String(await deadPid()));
    const database = await startEmbeddedPostgres({ dataDir });
    try {
      expect(Number.parseInt(readFileSync(`${dataDir}.lock`, 'utf8'), 10)).toBe(process.pid);
    } finally {
      await database.stop();
    }
  });

  // Regression: two servers that both read a stale lock could both take it.
  // The second to act removed the fresh lock of the first, thinking it stale.
  // Here the lock is a FIFO, so the second server's read of it waits until
  // the first (this test) has taken the stale lock over.
  it('a server that read a stale lock leaves alone the live lock another server put there meanwhile', async () => {
    const dataDir = join(scratch, 'raced');
    mkdirSync(dataDir);
    const lockPath = `${dataDir}.lock`;
    execFileSync('mkfifo', [lockPath]);
    const second = secondServer(dataDir);
    try {
      await second.ready;
      second.go();
      const reading = await open(lockPath, 'w'); // opens once the second server is reading the lock
      await reading.write(String(await deadPid()));
      writeFileSync(`${lockPath}.first`, String(process.pid));
      renameSync(`${lockPath}.first`, lockPath); // the first server's takeover
      await reading.close(); // the second server now reads: a stale pid
      expect(await second.outcome).toBe(
        `refused: The embedded database in ${dataDir} is in use by process ${process.pid}; stop it first.`,
      );
      expect(readFileSync(lockPath, 'utf8')).toBe(String(process.pid));
    } finally {
      await second.stop();
    }
  });

  it('lets exactly one of several servers racing for a stale lock start', async () => {
    const dataDir = join(scratch, 'contended');
    mkdirSync(dataDir);
    writeFileSync(`${dataDir}.lock`, String(await deadPid()));
    const servers = Array.from({ length: 4 }, () => secondServer(dataDir));
    try {
      await Promise.all(servers.map((server) => server.ready));
      for (const server of servers) server.go(); // as close to together as it gets
      const outcomes = await Promise.all(servers.map((server) => server.outcome));
      expect(outcomes.filter((outcome) => outcome === 'started')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.startsWith('refused: '))).toHaveLength(3);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });
});
