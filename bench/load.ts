// Load test (a benchmark, not a test): `npm run bench:load [-- --duration 60 --concurrency 50]`.
//
// Creates a fresh database on the machine's PostgreSQL (BENCH_DATABASE_URL's
// server, default postgres://postgres@127.0.0.1:5432), starts `npm run dev`
// against it, signs up one user per virtual user, then holds the concurrency
// for the duration across sign-in, session, token and JWKS. It reports
// latency percentiles and every non-2xx answer, then checks the database: no
// user or session lost or duplicated. Each virtual user is its own client IP
// (cf-connecting-ip), so 429s appear only where one client exceeds a limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const DURATION_S = option('duration', 60);
const CONCURRENCY = option('concurrency', 50);
const PORT = option('port', 8797);
const BASE = `http://localhost:${PORT}`;
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS = `${ROOT}bench/RESULTS.md`;

type Operation = 'sign-in' | 'session' | 'token' | 'jwks';
const MIX: Operation[] = [
  'sign-in',
  'session',
  'session',
  'token',
  'token',
  'jwks',
  'jwks',
  'session',
  'token',
  'jwks',
];

interface VirtualUser {
  ip: string;
  email: string;
  password: string;
  sessionToken: string;
}

const latencies = new Map<Operation, number[]>();
const statuses = new Map<string, number>();
let successfulSignIns = 0;

function record(operation: Operation, status: number, ms: number) {
  const list = latencies.get(operation) ?? [];
  list.push(ms);
  latencies.set(operation, list);
  const key = `${operation} ${status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
}

async function call(operation: Operation, user: VirtualUser): Promise<void> {
  // Node's fetch sends Sec-Fetch-Mode like a browser, so Better Auth wants an Origin.
  const headers: Record<string, string> = { 'cf-connecting-ip': user.ip, origin: BASE };
  let request: Promise<Response>;
  if (operation === 'sign-in') {
    request = fetch(`${BASE}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
  } else if (operation === 'jwks') {
    request = fetch(`${BASE}/api/auth/jwks`, { headers });
  } else {
    const path = operation === 'session' ? '/api/auth/session' : '/api/auth/token';
    request = fetch(`${BASE}${path}`, { headers: { ...headers, authorization: `Bearer ${user.sessionToken}` } });
  }
  const started = performance.now();
  let status = 0;
  try {
    const response = await request;
    await response.arrayBuffer();
    status = response.status;
  } catch {
    status = -1; // network error
  }
  record(operation, status, performance.now() - started);
  if (operation === 'sign-in' && status === 200) successfulSignIns++;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function waitForHealth(): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the dev server did not start');
}

async function main(): Promise<void> {
  const database = `auth_worker_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const databaseUrl = new URL(SERVER_URL);
  databaseUrl.pathname = `/${database}`;

  let dev: ChildProcess | undefined;
  try {
    dev = spawn('npm', ['run', 'dev'], {
      cwd: ROOT,
      detached: true, // its own process group, stopped as one below
      env: { ...process.env, PORT: String(PORT), DATABASE_URL: databaseUrl.toString() },
      stdio: 'ignore',
    });
    await waitForHealth();

    const users: VirtualUser[] = [];
    for (let index = 0; index < CONCURRENCY; index++) {
      const user = {
        ip: `10.77.${Math.floor(index / 250)}.${(index % 250) + 1}`,
        email: `bench-${index}-${Date.now()}@example.com`,
        password: `bench password ${index}`,
        sessionToken: '',
      };
      const response = await fetch(`${BASE}/api/auth/sign-up/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': user.ip, origin: BASE },
        body: JSON.stringify({ email: user.email, password: user.password, name: `Bench ${index}` }),
      });
      if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
      user.sessionToken = ((await response.json()) as { token: string }).token;
      users.push(user);
    }

    const deadline = performance.now() + DURATION_S * 1000;
    await Promise.all(
      users.map(async (user, index) => {
        for (let step = index; performance.now() < deadline; step++) {
          await call(MIX[step % MIX.length] as Operation, user);
        }
      }),
    );

    const db = new pg.Client({ connectionString: databaseUrl.toString() });
    await db.connect();
    const count = async (sql: string) => Number((await db.query(sql)).rows[0].count);
    const userRows = await count('select count(*) from "user"');
    const duplicateEmails = await count(
      'select count(*) from (select email from "user" group by email having count(*) > 1) d',
    );
    const sessionRows = await count('select count(*) from session');
    const duplicateTokens = await count(
      'select count(*) from (select token from session group by token having count(*) > 1) d',
    );
    await db.end();

    const expectedSessions = CONCURRENCY + successfulSignIns;
    const rows = [...latencies.entries()].map(([operation, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return {
        operation,
        requests: list.length,
        'req/s': (list.length / DURATION_S).toFixed(1),
        p50: percentile(sorted, 50).toFixed(1),
        p90: percentile(sorted, 90).toFixed(1),
        p99: percentile(sorted, 99).toFixed(1),
        max: (sorted.at(-1) ?? 0).toFixed(1),
      };
    });
    const unexpected = [...statuses.entries()].filter(([key]) => !/ (200|429)$/.test(key));
    const rateLimited = [...statuses.entries()].filter(([key]) => key.endsWith(' 429'));
    const integrity = {
      users: `${userRows} (expected ${CONCURRENCY}, duplicate emails ${duplicateEmails})`,
      sessions: `${sessionRows} (expected ${expectedSessions} = ${CONCURRENCY} sign-ups + ${successfulSignIns} sign-ins, duplicate tokens ${duplicateTokens})`,
    };
    const ok =
      unexpected.length === 0 &&
      userRows === CONCURRENCY &&
      duplicateEmails === 0 &&
      sessionRows === expectedSessions &&
      duplicateTokens === 0;

    console.table(rows);
    console.log('statuses:', Object.fromEntries(statuses));
    console.log('errors (not 200 or 429):', unexpected.length === 0 ? 'none' : Object.fromEntries(unexpected));
    console.log('integrity:', integrity);

    const report = [
      `## ${new Date().toISOString()} — concurrency ${CONCURRENCY}, ${DURATION_S} s`,
      '',
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; \`npm run dev\` (wrangler dev, workerd) on PostgreSQL at 127.0.0.1 through the local WebSocket proxy.`,
      '',
      '| operation | requests | req/s | p50 ms | p90 ms | p99 ms | max ms |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(
        (row) =>
          `| ${row.operation} | ${row.requests} | ${row['req/s']} | ${row.p50} | ${row.p90} | ${row.p99} | ${row.max} |`,
      ),
      '',
      `- Errors (answers other than 200 and 429): ${unexpected.length === 0 ? 'none' : JSON.stringify(Object.fromEntries(unexpected))}`,
      `- Deliberate 429s: ${rateLimited.length === 0 ? 'none' : JSON.stringify(Object.fromEntries(rateLimited))}`,
      `- Users: ${integrity.users}`,
      `- Sessions: ${integrity.sessions}`,
      `- Verdict: ${ok ? 'pass' : 'FAIL'}`,
      '',
    ].join('\n');
    if (!existsSync(RESULTS)) writeFileSync(RESULTS, '# Benchmark results\n\nAppended by `npm run bench:load`.\n\n');
    appendFileSync(RESULTS, report);
    console.log(ok ? 'load: pass' : 'load: FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (dev?.pid) {
      try {
        process.kill(-dev.pid, 'SIGINT');
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end();
  }
}

await main();
