// `npm run bench [-- --requests 200 --smoke --no-record]`: every endpoint
// against the platform floor and a stock Better Auth baseline.
//
// On the machine's PostgreSQL (BENCH_DATABASE_URL's server, default
// postgres://postgres@127.0.0.1:5432) it creates two fresh databases, puts the
// local WebSocket proxy in front, and runs `wrangler dev` twice, one after the
// other: auth-worker (wrangler.toml, BENCH_DATABASE_STATS=1) and the stock
// baseline (bench/wrangler.stock.toml). For each it warms up, then for the
// floor (/health), JWKS, session, token, sign-in and sign-up it measures
// p50/p99 latency and requests/s at concurrency 1 and 20. Database queries and
// connections per request are counted by the Worker (Server-Timing, read from
// the one-at-a-time run, where the isolate's counters are per request). Then
// it measures the deploy bundle and runs bench/workerd (password hashing CPU
// and connection cost inside workerd). Results are printed as a table and,
// unless --smoke or --no-record, appended to bench/RESULTS.md.
//
// Each simulated client is its own client IP (cf-connecting-ip) for at most
// 10 requests and signs in to its own accounts, so no rate limit is reached.
//
// Then it measures what distance to the database costs (the network model):
// for each round-trip time (20 and 60 ms unless `--db-rtt` names others) it
// puts a delay proxy (bench/delay-proxy.ts) in front of Postgres, runs both
// Workers against it, and measures the floor, session and token one request
// at a time. The slope of p50 over the RTT is the round trips a request makes
// to the database; what is left above the floor once those are taken off is
// its fixed cost. Last, the run is checked against the performance goals
// (printed, never asserted); the zero-delay ratios come from the floor,
// session and token measured once more taking turns, one request each, so
// that the machine's other work falls on all three alike. `--db-rtt 20,60` alone runs only the model;
// --smoke runs only the ordinary benchmark, with tiny counts.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { startSqlOverHttp } from '../scripts/lib/sql-over-http.ts';
import { postgresAddress, startWsProxy } from '../scripts/lib/ws-proxy.ts';
import { type DelayProxy, startDelayProxy } from './delay-proxy.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const SMOKE = args.includes('--smoke');
const RECORD = !SMOKE && !args.includes('--no-record');
/** Requests per endpoint and concurrency; sign-in and sign-up get half (each is a password hash). */
const REQUESTS = option('requests', SMOKE ? 6 : 200);
const HASH_REQUESTS = Math.max(2, Math.floor(REQUESTS / 2));
/** Requests per endpoint and distance in the network model (`--requests` when it runs alone). */
const REQUESTS_PER_DISTANCE = args.includes('--db-rtt') ? REQUESTS : option('model-requests', 60);
const WARMUP = SMOKE ? 2 : 20;
const CONCURRENCIES = SMOKE ? [1, 2] : [1, 20];
const PORT = option('port', 8794);
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = new URL('..', import.meta.url).pathname;
const WRANGLER = `${ROOT}node_modules/.bin/wrangler`;
const RESULTS = `${ROOT}bench/RESULTS.md`;
const SESSION_POOL = SMOKE ? 4 : 40;
/** `--db-rtt`: only the network model, at these distances. */
const MODEL_ONLY = args.includes('--db-rtt');
/** Round-trip times (ms) for the network model. */
const RTTS = (() => {
  const at = args.indexOf('--db-rtt');
  if (at === -1) return [20, 60];
  const values = (args[at + 1] ?? '').split(',').map(Number);
  if (values.length < 2 || values.some((value) => !Number.isFinite(value) || value < 0)) {
    throw new Error('--db-rtt wants two or more round-trip times in ms, e.g. --db-rtt 20,60');
  }
  return values;
})();

type Endpoint = 'floor' | 'jwks' | 'session' | 'token' | 'sign-in' | 'sign-up';
const ENDPOINTS: Endpoint[] = ['floor', 'jwks', 'session', 'token', 'sign-in', 'sign-up'];
type Target = 'auth-worker' | 'stock';

interface Account {
  email: string;
  password: string;
  sessionToken: string;
}

interface Measurement {
  target: Target;
  endpoint: Endpoint;
  concurrency: number;
  requests: number;
  errors: Record<string, number>;
  p25: number;
  p50: number;
  p75: number;
  p99: number;
  rps: number;
  /** Mean per request, from Server-Timing; undefined when not reported. */
  queries?: number;
  connections?: number;
  /** Statements sent over HTTP, per request (auth-worker only). */
  httpQueries?: number;
  /** The Worker's own ms per request (Server-Timing `worker`, auth-worker only), mean. */
  workerMs?: number;
  /** The network model's round-trip time to the database, in ms (--db-rtt). */
  rtt?: number;
  /** Measured in turn with other endpoints, one request each (measureInTurn). */
  inTurn?: boolean;
}

let ipCounter = 0;
function nextIp(): string {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

let emailCounter = 0;
const RUN_ID = Date.now().toString(36);
function freshEmail(): string {
  return `bench-${RUN_ID}-${++emailCounter}@example.com`;
}

/** One simulated client: an IP used for at most 10 requests (the sign-up limit per IP). */
class Client {
  private ip = nextIp();
  private used = 0;
  constructor(readonly base: string) {}
  headers(extra: Record<string, string> = {}): Record<string, string> {
    if (++this.used > 10) {
      this.ip = nextIp();
      this.used = 1;
    }
    // Node's fetch sends Sec-Fetch-Mode like a browser, so Better Auth wants an Origin.
    return { 'cf-connecting-ip': this.ip, origin: this.base, ...extra };
  }
}

function signUpRequest(client: Client, email: string, password: string): [string, RequestInit] {
  return [
    `${client.base}/api/auth/sign-up/email`,
    {
      method: 'POST',
      headers: client.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ email, password, name: 'Bench User' }),
    },
  ];
}

function requestFor(endpoint: Endpoint, client: Client, accounts: Account[], index: number): [string, RequestInit] {
  const account = accounts[index % accounts.length] as Account;
  const bearer = { authorization: `Bearer ${account.sessionToken}` };
  switch (endpoint) {
    case 'floor':
      return [`${client.base}/health`, { headers: client.headers() }];
    case 'jwks':
      return [`${client.base}/api/auth/jwks`, { headers: client.headers() }];
    case 'session':
      return [`${client.base}/api/auth/get-session`, { headers: client.headers(bearer) }];
    case 'token':
      return [`${client.base}/api/auth/token`, { headers: client.headers(bearer) }];
    case 'sign-in':
      return [
        `${client.base}/api/auth/sign-in/email`,
        {
          method: 'POST',
          headers: client.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ email: account.email, password: account.password }),
        },
      ];
    case 'sign-up':
      return signUpRequest(client, freshEmail(), 'bench password 12345');
  }
}

const DB_TIMING = /db;desc="queries=(\d+) connections=(\d+)(?: http=(\d+))?"/;
const WORKER_TIMING = /worker;dur=(\d+)/;

async function measure(
  target: Target,
  base: string,
  endpoint: Endpoint,
  concurrency: number,
  accounts: Account[],
  requests = REQUESTS,
): Promise<Measurement> {
  const total = endpoint === 'sign-in' || endpoint === 'sign-up' ? Math.max(2, Math.floor(requests / 2)) : requests;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let queries = 0;
  let connections = 0;
  let httpQueries = 0;
  let counted = 0;
  let workerMs = 0;
  let timed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = new Client(base);
      for (let index = next++; index < total; index = next++) {
        const { status, ms, serverTiming } = await send(requestFor(endpoint, client, accounts, index));
        const worker = WORKER_TIMING.exec(serverTiming);
        if (worker) {
          workerMs += Number(worker[1]);
          timed++;
        }
        const timing = DB_TIMING.exec(serverTiming);
        if (timing) {
          queries += Number(timing[1]);
          connections += Number(timing[2]);
          httpQueries += Number(timing[3] ?? 0);
          counted++;
        }
        latencies.push(ms);
        if (status !== 200) errors[status] = (errors[status] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    target,
    endpoint,
    concurrency,
    requests: latencies.length,
    errors,
    ...quantiles(latencies),
    rps: latencies.length / elapsed,
    // Isolate-wide counters are per request only when requests do not overlap.
    ...(concurrency === 1 && counted > 0
      ? { queries: queries / counted, connections: connections / counted, httpQueries: httpQueries / counted }
      : {}),
    ...(concurrency === 1 && timed > 0 ? { workerMs: workerMs / timed } : {}),
  };
}

/** One request, read to its end: its status (-1 when it failed), latency and Server-Timing. */
async function send([url, init]: [string, RequestInit]): Promise<{ status: number; ms: number; serverTiming: string }> {
  const sent = performance.now();
  try {
    const response = await fetch(url, init);
    await response.arrayBuffer();
    return {
      status: response.status,
      ms: performance.now() - sent,
      serverTiming: response.headers.get('server-timing') ?? '',
    };
  } catch {
    return { status: -1, ms: performance.now() - sent, serverTiming: '' };
  }
}

function quantiles(latencies: number[]): Pick<Measurement, 'p25' | 'p50' | 'p75' | 'p99'> {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { p25: at(0.25), p50: at(0.5), p75: at(0.75), p99: at(0.99) };
}

/**
 * Latency of several endpoints one request at a time, taking turns (floor,
 * session, token, floor, ...), so that whatever else the machine does in
 * those seconds falls on all of them alike: the zero-delay goals compare
 * their p50s. No requests/s (the turns share the time).
 */
async function measureInTurn(
  target: Target,
  base: string,
  endpoints: Endpoint[],
  accounts: Account[],
  requests = REQUESTS,
): Promise<Measurement[]> {
  const latencies = new Map(endpoints.map((endpoint) => [endpoint, [] as number[]]));
  const errors = new Map(endpoints.map((endpoint) => [endpoint, {} as Record<string, number>]));
  const client = new Client(base);
  for (let index = 0; index < requests; index++) {
    for (const endpoint of endpoints) {
      const { status, ms } = await send(requestFor(endpoint, client, accounts, index));
      latencies.get(endpoint)?.push(ms);
      const counts = errors.get(endpoint) as Record<string, number>;
      if (status !== 200) counts[status] = (counts[status] ?? 0) + 1;
    }
  }
  return endpoints.map((endpoint) => ({
    target,
    endpoint,
    concurrency: 1,
    requests: latencies.get(endpoint)?.length ?? 0,
    errors: errors.get(endpoint) ?? {},
    ...quantiles(latencies.get(endpoint) ?? []),
    rps: Number.NaN,
    inTurn: true,
  }));
}

async function waitForHealth(base: string, server: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 240; attempt++) {
    if (server.exitCode !== null) throw new Error(`wrangler dev exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('wrangler dev did not start');
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (!server.pid || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  try {
    process.kill(-server.pid, 'SIGKILL');
  } catch {}
}

/** A port nothing listens on now: wrangler's DevTools inspector would otherwise take 9229, or fail if it is taken. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function benchTarget(
  target: Target,
  databaseUrl: string,
  proxies: { ws: string; http: string },
  scratch: string,
  plan: {
    endpoints: Endpoint[];
    concurrencies: number[];
    accounts: number;
    rtt?: number;
    requests?: number;
    /** Then these endpoints again, taking turns (measureInTurn). */
    inTurn?: Endpoint[];
  } = {
    endpoints: ENDPOINTS,
    concurrencies: CONCURRENCIES,
    accounts: SESSION_POOL,
  },
): Promise<Measurement[]> {
  const port = target === 'auth-worker' ? PORT : PORT + 1;
  const base = `http://localhost:${port}`;
  const vars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATABASE_WS_PROXY: proxies.ws,
    // The stock baseline runs as Better Auth's docs set it up: every query
    // over the driver's WebSocket pool. Ours sends single statements over HTTP.
    ...(target === 'auth-worker' ? { DATABASE_HTTP_PROXY: proxies.http } : {}),
    BETTER_AUTH_SECRET: `bench-only-secret-${RUN_ID}-0123456789abcdef`,
    BETTER_AUTH_URL: base,
    BENCH_DATABASE_STATS: '1',
  };
  const envFile = path.join(scratch, `${target}.env`);
  writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
  const config = target === 'auth-worker' ? [] : ['-c', `${ROOT}bench/wrangler.stock.toml`];
  const server = spawn(
    WRANGLER,
    [
      'dev',
      ...config,
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--env-file',
      envFile,
      // Fresh Durable Object state: no rate-limit counters from an earlier run.
      '--persist-to',
      path.join(scratch, `${target}-state`),
      '--show-interactive-dev-session=false',
      '--inspector-port',
      String(await freePort()),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    },
  );
  try {
    await waitForHealth(base, server);
    // Accounts with sessions for session, token and sign-in (each its own client IP).
    const accounts: Account[] = [];
    for (let index = 0; index < plan.accounts; index++) {
      const account = { email: freshEmail(), password: `bench password ${index}`, sessionToken: '' };
      const response = await fetch(...signUpRequest(new Client(base), account.email, account.password));
      if (!response.ok) throw new Error(`${target}: sign-up failed: ${response.status} ${await response.text()}`);
      account.sessionToken = ((await response.json()) as { token: string }).token;
      accounts.push(account);
    }
    // Warm-up: the first JWKS read creates or loads the signing keys, the
    // first requests compile the code paths; nothing of it is measured.
    for (const endpoint of plan.endpoints) {
      for (let index = 0; index < WARMUP; index++) {
        const [url, init] = requestFor(endpoint, new Client(base), accounts, index);
        await (await fetch(url, init)).arrayBuffer();
      }
    }
    const results: Measurement[] = [];
    for (const concurrency of plan.concurrencies) {
      for (const endpoint of plan.endpoints) {
        const result = {
          ...(await measure(target, base, endpoint, concurrency, accounts, plan.requests)),
          rtt: plan.rtt,
        };
        results.push(result);
        console.log(
          `${target.padEnd(11)} ${plan.rtt === undefined ? '' : `rtt ${plan.rtt} ms `}${endpoint.padEnd(8)} c=${String(concurrency).padEnd(2)} p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.rps.toFixed(1)} req/s${result.queries === undefined ? '' : `, ${result.queries.toFixed(2)} queries`}${result.workerMs === undefined ? '' : `, Worker ${result.workerMs.toFixed(2)} ms`}${Object.keys(result.errors).length ? `, errors ${JSON.stringify(result.errors)}` : ''}`,
        );
      }
    }
    if (plan.inTurn) {
      const inTurn = await measureInTurn(target, base, plan.inTurn, accounts, plan.requests);
      results.push(...inTurn);
      console.log(
        `${target.padEnd(11)} in turn: ${inTurn.map((r) => `${r.endpoint} p50 ${r.p50.toFixed(1)} ms${Object.keys(r.errors).length ? ` (errors ${JSON.stringify(r.errors)})` : ''}`).join(', ')}`,
      );
    }
    return results;
  } finally {
    await stopServer(server);
  }
}

interface BundleSize {
  raw: number;
  gzip: number;
}

/** wrangler's own figures for the upload (`Total Upload: X KiB / gzip: Y KiB`). */
function bundleSize(configPath: string | undefined, scratch: string): BundleSize {
  const outdir = mkdtempSync(path.join(scratch, 'dist-'));
  const output = execFileSync(
    WRANGLER,
    ['deploy', '--dry-run', '--outdir', outdir, ...(configPath ? ['-c', configPath] : [])],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
  );
  const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  if (!match) throw new Error(`no upload size in wrangler's output:\n${output}`);
  return { raw: Number(match[1]), gzip: Number(match[2]) };
}

/** bench/workerd: hashing CPU and connection cost measured inside workerd; lines `BENCH {json}`. */
function workerdCosts(databaseUrl: string): Record<string, unknown>[] {
  const output = execFileSync(`${ROOT}node_modules/.bin/vitest`, ['run', '-c', 'bench/vitest.config.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TEST_DATABASE_URL: databaseUrl, BENCH_SMOKE: SMOKE ? '1' : '' },
    // The Worker logs a line per request, and the requests through it are thousands.
    maxBuffer: 256 * 2 ** 20,
  });
  return [...output.matchAll(/BENCH (\{.*\})/g)].map(
    (match) => JSON.parse(match[1] ?? '{}') as Record<string, unknown>,
  );
}

const ms = (value: number) => value.toFixed(1);
const ratio = (value: number, to: number | undefined) => (to ? `${(value / to).toFixed(2)}×` : '–');

/** The measurement of one endpoint at one concurrency from the ordinary runs (not the in-turn pass). */
function measured(results: Measurement[], target: Target, endpoint: Endpoint, concurrency: number) {
  return results.find(
    (r) => r.target === target && r.endpoint === endpoint && r.concurrency === concurrency && !r.inTurn,
  );
}

function table(results: Measurement[]): string[] {
  const find = (target: Target, endpoint: Endpoint, concurrency: number) =>
    measured(results, target, endpoint, concurrency);
  const countsOf = (target: Target, endpoint: Endpoint) => find(target, endpoint, 1);
  const lines = [
    '| endpoint | c | p50 ms | p99 ms | req/s | p50 ÷ floor | p50 ÷ stock | req/s ÷ stock | queries/req | conns/req | Worker ms/req | stock p50 ms | stock p99 ms | stock req/s | stock queries/req |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const concurrency of CONCURRENCIES) {
    for (const endpoint of ENDPOINTS) {
      const ours = find('auth-worker', endpoint, concurrency);
      const stock = find('stock', endpoint, concurrency);
      const floor = find('auth-worker', 'floor', concurrency);
      if (!ours) continue;
      const counts = countsOf('auth-worker', endpoint);
      const stockCounts = countsOf('stock', endpoint);
      const errors = Object.keys(ours.errors).length ? ` (non-200: ${JSON.stringify(ours.errors)})` : '';
      lines.push(
        `| ${endpoint}${errors} | ${concurrency} | ${ms(ours.p50)} | ${ms(ours.p99)} | ${ours.rps.toFixed(1)} | ${ratio(ours.p50, floor?.p50)} | ${ratio(ours.p50, stock?.p50)} | ${stock ? ratio(ours.rps, stock.rps) : '–'} | ${counts?.queries?.toFixed(2) ?? '–'} | ${counts?.connections?.toFixed(2) ?? '–'} | ${counts?.workerMs?.toFixed(2) ?? '–'} | ${stock ? ms(stock.p50) : '–'} | ${stock ? ms(stock.p99) : '–'} | ${stock ? stock.rps.toFixed(1) : '–'} | ${stockCounts?.queries?.toFixed(2) ?? '–'}${stock && Object.keys(stock.errors).length ? ` (non-200: ${JSON.stringify(stock.errors)})` : ''} |`,
      );
    }
  }
  return lines;
}

/** The floor and the two hot paths: what the network model and the zero-delay goals measure. */
const HOT_PATHS: Endpoint[] = ['floor', 'session', 'token'];

const MODEL_SETUP =
  "`wrangler dev` on PostgreSQL 127.0.0.1 behind a delay proxy (every byte held RTT/2 each way); auth-worker with single statements over the local HTTP query endpoint and transactions over the WebSocket proxy, the stock baseline over the WebSocket proxy only. Round trips: slope of p50 over RTT (least squares); fixed cost: the intercept minus the floor's.";

/** The hot paths' goals (bench/README.md), checked against one run: printed, never asserted. */
function goalsTable(ordinary: Measurement[], model: Measurement[]): string[] {
  const find = (target: Target, endpoint: Endpoint, concurrency: number) =>
    measured(ordinary, target, endpoint, concurrency);
  // The zero-delay ratios from the endpoints measured in turn, when they were.
  const p50InTurn = (endpoint: Endpoint) =>
    (
      ordinary.find((r) => r.target === 'auth-worker' && r.endpoint === endpoint && r.inTurn) ??
      find('auth-worker', endpoint, 1)
    )?.p50;
  const roundTrips = (endpoint: Endpoint) =>
    lineOverRtt(
      model.filter((r) => r.target === 'auth-worker' && r.endpoint === endpoint),
      'p50',
    ).slope;
  const floor = p50InTurn('floor');
  const session = p50InTurn('session');
  const token = p50InTurn('token');
  const tokenRps = find('auth-worker', 'token', 20)?.rps;
  const stockTokenRps = find('stock', 'token', 20)?.rps;
  const goal = (name: string, value: number | undefined, bound: string, met: (v: number) => boolean) =>
    `| ${name} | ${value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(2)} | ${bound} | ${value !== undefined && met(value) ? 'met' : 'not met'} |`;
  return [
    '| goal | measured | bound | |',
    '|---|---|---|---|',
    goal('session round trips to the database (p50 slope)', roundTrips('session'), '≤ 1.2', (v) => v <= 1.2),
    goal('token round trips to the database (p50 slope)', roundTrips('token'), '≤ 1.2', (v) => v <= 1.2),
    goal(
      'session p50 ÷ floor p50, zero delay, c=1, in turn',
      session && floor ? session / floor : undefined,
      '≤ 2',
      (v) => v <= 2,
    ),
    goal(
      'token p50 ÷ floor p50, zero delay, c=1, in turn',
      token && floor ? token / floor : undefined,
      '≤ 2',
      (v) => v <= 2,
    ),
    goal(
      'token p50 ÷ session p50, zero delay, c=1, in turn',
      token && session ? token / session : undefined,
      '≤ 1.2',
      (v) => v <= 1.2,
    ),
    goal(
      'token req/s ÷ stock token req/s, c=20',
      tokenRps && stockTokenRps ? tokenRps / stockTokenRps : undefined,
      '≥ 1',
      (v) => v >= 1,
    ),
    '',
    ...blockRatios(),
  ];

  /** The same ratios from the table above, where each endpoint ran after the other. */
  function blockRatios(): string[] {
    const [f, se, t] = HOT_PATHS.map((endpoint) => find('auth-worker', endpoint, 1)?.p50);
    if (!f || !se || !t) return [];
    const r = (a: number, b: number) => (a / b).toFixed(2);
    return [
      `One endpoint after the other instead (the table above): session ÷ floor ${r(se, f)}, token ÷ floor ${r(t, f)}, token ÷ session ${r(t, se)}.`,
    ];
  }
}

/**
 * Where a zero-delay request's time goes: the Worker's own time (Server-Timing
 * `worker`, its mean) and the rest of the p50, which is `wrangler dev`'s path
 * to and from the Worker (the floor is almost all of that).
 */
function zeroDelaySplit(ordinary: Measurement[]): string[] {
  const lines = ['| c=1, zero delay | p50 ms | the Worker (mean ms) | the rest of p50 (ms) |', '|---|---|---|---|'];
  for (const endpoint of HOT_PATHS) {
    const result = measured(ordinary, 'auth-worker', endpoint, 1);
    if (result?.workerMs === undefined) continue;
    lines.push(
      `| ${endpoint} | ${ms(result.p50)} | ${result.workerMs.toFixed(2)} | ${ms(result.p50 - result.workerMs)} |`,
    );
  }
  return lines;
}

/** Least squares slope and intercept of `p` (a quantile, ms) over the RTT. */
function lineOverRtt(points: Measurement[], quantile: 'p25' | 'p50' | 'p75'): { slope: number; intercept: number } {
  const n = points.length;
  const x = points.map((point) => point.rtt ?? 0);
  const y = points.map((point) => point[quantile]);
  const meanX = x.reduce((a, b) => a + b, 0) / n;
  const meanY = y.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    covariance += ((x[i] ?? 0) - meanX) * ((y[i] ?? 0) - meanY);
    variance += ((x[i] ?? 0) - meanX) ** 2;
  }
  const slope = covariance / variance;
  return { slope, intercept: meanY - slope * meanX };
}

function networkModelTable(results: Measurement[]): string[] {
  const header = RTTS.map((rtt) => `p50 @${rtt} ms`).join(' | ');
  const lines = [
    `| endpoint | target | ${header} | round trips (p50 slope) | p25 / p75 slopes | fixed cost above floor ms | queries / conns / http per request |`,
    `|---|---|${RTTS.map(() => '---|').join('')}---|---|---|---|`,
  ];
  for (const endpoint of HOT_PATHS) {
    for (const target of ['auth-worker', 'stock'] as Target[]) {
      const points = results.filter((r) => r.target === target && r.endpoint === endpoint);
      const floor = lineOverRtt(
        results.filter((r) => r.target === target && r.endpoint === 'floor'),
        'p50',
      );
      const { slope, intercept } = lineOverRtt(points, 'p50');
      const low = lineOverRtt(points, 'p25').slope;
      const high = lineOverRtt(points, 'p75').slope;
      const counts = points[0];
      const errors = points.some((p) => Object.keys(p.errors).length > 0)
        ? ` (non-200: ${points.map((p) => JSON.stringify(p.errors)).join(' ')})`
        : '';
      lines.push(
        `| ${endpoint}${errors} | ${target} | ${points.map((p) => ms(p.p50)).join(' | ')} | ${slope.toFixed(2)} | ${low.toFixed(2)} / ${high.toFixed(2)} | ${endpoint === 'floor' ? '–' : ms(intercept - floor.intercept)} | ${counts?.queries?.toFixed(2) ?? '–'} / ${counts?.connections?.toFixed(2) ?? '–'} / ${counts?.httpQueries?.toFixed(2) ?? '–'} |`,
      );
    }
  }
  return lines;
}

/** The network model: the floor, session and token of both Workers at each distance to the database. */
async function networkModel(
  urlOf: (database: string) => string,
  names: Record<Target, string>,
  scratch: string,
): Promise<Measurement[]> {
  const database = postgresAddress(SERVER_URL);
  const delays: DelayProxy[] = [];
  let proxy: Awaited<ReturnType<typeof startWsProxy>> | undefined;
  let httpProxy: Awaited<ReturnType<typeof startSqlOverHttp>> | undefined;
  try {
    for (const rtt of RTTS) delays.push(await startDelayProxy(database, rtt));
    const targets = delays.map((delay) => delay.address);
    proxy = await startWsProxy({ targets });
    httpProxy = await startSqlOverHttp({ targets });
    const proxies = { ws: proxy.address, http: httpProxy.address };
    const results: Measurement[] = [];
    for (const [index, rtt] of RTTS.entries()) {
      const via = (name: string) => {
        const url = new URL(urlOf(name));
        url.host = delays[index]?.address ?? '';
        return url.toString();
      };
      const plan = {
        endpoints: HOT_PATHS,
        concurrencies: [1],
        accounts: SMOKE ? 2 : 10,
        rtt,
        requests: REQUESTS_PER_DISTANCE,
      };
      results.push(...(await benchTarget('auth-worker', via(names['auth-worker']), proxies, scratch, plan)));
      results.push(...(await benchTarget('stock', via(names.stock), proxies, scratch, plan)));
    }
    return results;
  } finally {
    await proxy?.stop();
    await httpProxy?.stop();
    for (const delay of delays) await delay.stop();
  }
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'auth-worker-bench-'));
  const names = { 'auth-worker': `auth_worker_bench_${RUN_ID}_ours`, stock: `auth_worker_bench_${RUN_ID}_stock` };
  // bench/workerd runs under the tests' secret, so it cannot open the signing
  // keys the benchmarked Worker created: it gets a database of its own.
  const workerdDatabase = `auth_worker_bench_${RUN_ID}_workerd`;
  const databases = [...Object.values(names), workerdDatabase];
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  const urlOf = (database: string) => {
    const url = new URL(SERVER_URL);
    url.pathname = `/${database}`;
    return url.toString();
  };
  let proxy: Awaited<ReturnType<typeof startWsProxy>> | undefined;
  let httpProxy: Awaited<ReturnType<typeof startSqlOverHttp>> | undefined;
  try {
    for (const database of databases) {
      await admin.query(`create database ${database}`);
      await applyMigrations(urlOf(database));
    }
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
    if (MODEL_ONLY) {
      const started = new Date();
      const model = await networkModel(urlOf, names, scratch);
      const report = [
        `## ${started.toISOString()} — npm run bench -- --db-rtt ${RTTS.join(',')}${SMOKE ? ' --smoke' : ''}: ${REQUESTS_PER_DISTANCE} requests per endpoint and distance, one at a time`,
        '',
        `Machine: ${machine}. ${MODEL_SETUP}`,
        '',
        ...networkModelTable(model),
        '',
      ].join('\n');
      console.log(`\n${report}`);
      if (RECORD) appendFileSync(RESULTS, `\n${report}`);
      if (model.some((r) => Object.keys(r.errors).length > 0)) {
        console.error('bench: some requests did not answer 200 (see the table)');
        process.exitCode = 1;
      }
      return;
    }
    proxy = await startWsProxy({ targets: [postgresAddress(SERVER_URL)] });
    httpProxy = await startSqlOverHttp({ targets: [postgresAddress(SERVER_URL)] });
    const proxies = { ws: proxy.address, http: httpProxy.address };

    const started = new Date();
    const results = [
      ...(await benchTarget('auth-worker', urlOf(names['auth-worker']), proxies, scratch, {
        endpoints: ENDPOINTS,
        concurrencies: CONCURRENCIES,
        accounts: SESSION_POOL,
        inTurn: HOT_PATHS,
      })),
      ...(await benchTarget('stock', urlOf(names.stock), proxies, scratch)),
    ];
    const bundle = bundleSize(undefined, scratch);
    const stockBundle = bundleSize(`${ROOT}bench/wrangler.stock.toml`, scratch);
    const costs = workerdCosts(urlOf(workerdDatabase));
    // The model starts its own proxies, in front of the delay proxies.
    await proxy.stop();
    await httpProxy.stop();
    proxy = httpProxy = undefined;
    const model = SMOKE ? [] : await networkModel(urlOf, names, scratch);

    const report = [
      `## ${started.toISOString()} — npm run bench${SMOKE ? ' --smoke' : ''}: ${REQUESTS} requests per endpoint and concurrency (${HASH_REQUESTS} for sign-in and sign-up)`,
      '',
      `Machine: ${machine}. \`wrangler dev\` (one local workerd) on PostgreSQL 127.0.0.1 through the local WebSocket proxy; auth-worker first, then the stock baseline, never both at once. Queries and connections per request are counted by the Worker (Server-Timing, concurrency-1 run).`,
      '',
      ...table(results),
      '',
      `Bundle (wrangler deploy --dry-run, Total Upload): auth-worker ${bundle.raw} KiB raw / ${bundle.gzip} KiB gzip; stock baseline ${stockBundle.raw} KiB / ${stockBundle.gzip} KiB.`,
      '',
      'Inside workerd (bench/workerd, vitest):',
      '',
      ...costs.map((cost) => `- ${cost.label}: ${cost.value}`),
      '',
      ...(model.length > 0
        ? [
            `Distance to the database (${REQUESTS_PER_DISTANCE} requests per endpoint and distance, one at a time): ${MODEL_SETUP}`,
            '',
            ...networkModelTable(model),
            '',
            'Against the goals (this run):',
            '',
            ...goalsTable(results, model),
            '',
            "Where the zero-delay time goes (the Worker's own time is Server-Timing `worker`, counted by local workerd's clock):",
            '',
            ...zeroDelaySplit(results),
            '',
          ]
        : []),
    ].join('\n');
    console.log(`\n${report}`);
    if (RECORD) appendFileSync(RESULTS, `\n${report}`);
    const failed = [...results, ...model].filter((r) => Object.keys(r.errors).length > 0);
    if (failed.length > 0) {
      console.error('bench: some requests did not answer 200 (see the table)');
      process.exitCode = 1;
    }
  } finally {
    await proxy?.stop();
    await httpProxy?.stop();
    for (const database of databases) {
      await admin.query(`drop database if exists ${database} with (force)`).catch(() => {});
    }
    await admin.end();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
