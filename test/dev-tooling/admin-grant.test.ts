// `npm run admin:grant` as an operator runs it: against a database URL (the
// production way), against the development database while `npm run dev` is
// not running (the command opens it), and while it is (through the URL file
// `npm run dev` leaves in the data folder).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../../scripts/lib/migrate.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Runs the command as `npm run admin:grant -- ...args` does, with only the variables given. */
async function adminGrant(args: string[], env: Record<string, string>) {
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/admin-grant.ts', ...args], {
    cwd: ROOT,
    // DATABASE_URL='' hides any DATABASE_URL in a developer's .dev.vars (the environment wins).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function addUser(url: string, email: string): Promise<string> {
  const id = `user-${crypto.randomUUID()}`;
  await query(url, `insert into "user" (id, name, email) values ($1, 'Ada', $2)`, [id, email]);
  return id;
}

async function roleOf(url: string, email: string): Promise<string | undefined> {
  const [row] = await query<{ role: string }>(url, `select role from "user" where email = $1`, [email]);
  return row?.role;
}

describe('against a database URL (production)', () => {
  let database: EmbeddedPostgres;
  beforeAll(async () => {
    database = await startEmbeddedPostgres();
    await applyMigrations(database.url);
  });
  afterAll(() => database.stop());

  it('grants, says when nothing changes, revokes; each change audited as role_changed by the system', async () => {
    const id = await addUser(database.url, 'ada@example.com');
    const env = { DATABASE_URL: database.url };

    const granted = await adminGrant(['Ada@Example.com'], env);
    expect(granted.code).toBe(0);
    expect(granted.output).toContain('ada@example.com is an admin now');
    // The password of the database never reaches the output.
    expect(granted.output).not.toContain(new URL(database.url).password);
    expect(await roleOf(database.url, 'ada@example.com')).toBe('admin');

    const again = await adminGrant(['ada@example.com'], env);
    expect(again.code).toBe(0);
    expect(again.output).toContain('already an admin');

    const revoked = await adminGrant(['--revoke', 'ada@example.com'], env);
    expect(revoked.code).toBe(0);
    expect(await roleOf(database.url, 'ada@example.com')).toBe('user');

    const events = await query<{ type: string; actor_type: string; actor_id: string | null; detail: object }>(
      database.url,
      `select type, actor_type, actor_id, detail from audit_event where user_id = $1 order by id`,
      [id],
    );
    expect(events).toEqual([
      {
        type: 'role_changed',
        actor_type: 'system',
        actor_id: null,
        detail: { role: 'admin', previousRole: 'user', via: 'npm run admin:grant' },
      },
      {
        type: 'role_changed',
        actor_type: 'system',
        actor_id: null,
        detail: { role: 'user', previousRole: 'admin', via: 'npm run admin:grant' },
      },
    ]);
  });

  it.each([
    [['nobody@example.com'], 'No user has the address nobody@example.com'],
    [[], 'Usage: npm run admin:grant'],
    [['--revoke'], 'Usage: npm run admin:grant'],
    [['a@example.com', 'b@example.com'], 'Usage: npm run admin:grant'],
  ])('refuses %j with exit code 1', async (args, message) => {
    const result = await adminGrant(args, { DATABASE_URL: database.url });
    expect(result.code).toBe(1);
    expect(result.output).toContain(message);
  });
});

describe('against the development database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-worker-admin-grant-'));
  const env = { AUTH_WORKER_DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens it when npm run dev is not running, and reaches it through npm run dev when it is', async () => {
    // A user signed up on an earlier `npm run dev`.
    let dev = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pglite') });
    await applyMigrations(dev.url);
    await addUser(dev.url, 'grace@example.com');
    await dev.stop();

    const offline = await adminGrant(['grace@example.com'], env);
    expect(offline.code, offline.output).toBe(0);
    expect(offline.output).toContain('grace@example.com is an admin now');

    // `npm run dev` holds the data folder and leaves its database's URL beside it.
    dev = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pglite') });
    try {
      writeFileSync(join(dataDir, 'embedded-database-url'), dev.url, { mode: 0o600 });
      expect(await roleOf(dev.url, 'grace@example.com')).toBe('admin');
      const online = await adminGrant(['--revoke', 'grace@example.com'], env);
      expect(online.code, online.output).toBe(0);
      expect(await roleOf(dev.url, 'grace@example.com')).toBe('user');
    } finally {
      await dev.stop();
    }
  });
});
