// The embedded Postgres of `npm run dev` and the tests: who may connect, who
// may read its files.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
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
