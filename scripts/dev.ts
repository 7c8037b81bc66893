// `npm run dev`: zero-setup local development.
// Reads .dev.vars, lets the process environment override any variable, starts
// the embedded Postgres when DATABASE_URL is unset, puts the WebSocket proxy in
// front of any non-Neon Postgres, applies migrations and runs `wrangler dev`.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './lib/embedded-postgres.ts';
import { applyMigrations } from './lib/migrate.ts';
import { postgresAddress, startWsProxy, type WsProxy } from './lib/ws-proxy.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATA_DIR = `${ROOT}.data`;
const DEV_VARS = `${ROOT}.dev.vars`;
const EXAMPLE_VARS = `${ROOT}.dev.vars.example`;

// Every variable the Worker reads; the process environment wins over .dev.vars.
const WORKER_VARIABLES = Object.keys(parseEnv(readFileSync(EXAMPLE_VARS, 'utf8')));

function log(message: string): void {
  console.log(`[dev] ${message}`);
}

function loadVariables(): Record<string, string> {
  const fromFile = existsSync(DEV_VARS) ? parseEnv(readFileSync(DEV_VARS, 'utf8')) : {};
  if (existsSync(DEV_VARS)) log('Read .dev.vars.');
  const merged: Record<string, string> = {};
  for (const name of new Set([...WORKER_VARIABLES, ...Object.keys(fromFile), 'PORT'])) {
    const value = process.env[name] ?? fromFile[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  return merged;
}

/** A dev-only secret, kept in .data/ so sessions and signing keys survive restarts. */
function devSecret(): string {
  const path = `${DATA_DIR}/dev-secret`;
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  log(`No BETTER_AUTH_SECRET set: using a generated dev-only secret (${path}). Never use it in production.`);
  return readFileSync(path, 'utf8').trim();
}

function isNeon(databaseUrl: string): boolean {
  return new URL(databaseUrl).hostname.endsWith('.neon.tech');
}

function redactedUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const vars = loadVariables();
  const port = Number(vars.PORT ?? 8787);
  delete vars.PORT;

  const stops: Array<() => Promise<void>> = [];
  let wrangler: ChildProcess | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    wrangler?.kill('SIGTERM');
    for (const stopOne of stops.reverse()) await stopOne().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    vars.BETTER_AUTH_URL ??= `http://localhost:${port}`;
    vars.BETTER_AUTH_SECRET ??= devSecret();

    if (!vars.DATABASE_URL) {
      const embedded: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: `${DATA_DIR}/pglite` });
      stops.push(embedded.stop);
      vars.DATABASE_URL = embedded.url;
      log(`Embedded Postgres (PGlite, data in .data/pglite) on ${embedded.url}`);
    }

    if (isNeon(vars.DATABASE_URL)) {
      log('Neon database: the driver connects to it directly.');
    } else {
      const proxy: WsProxy = await startWsProxy({ targets: [postgresAddress(vars.DATABASE_URL)] });
      stops.push(proxy.stop);
      vars.DATABASE_WS_PROXY = proxy.address;
      log(`WebSocket proxy on ${proxy.address} -> ${postgresAddress(vars.DATABASE_URL)}`);
    }

    log(`Applying migrations to ${redactedUrl(vars.DATABASE_URL)}`);
    await applyMigrations(vars.DATABASE_URL);

    // wrangler reads this file instead of .dev.vars; it holds secrets, so only we may read it.
    const envFile = `${DATA_DIR}/wrangler-dev.env`;
    const lines = Object.entries(vars).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
    writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
    chmodSync(envFile, 0o600);

    const wranglerBin = `${ROOT}node_modules/.bin/wrangler`;
    wrangler = spawn(wranglerBin, ['dev', '--port', String(port), '--ip', '127.0.0.1', '--env-file', envFile], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    log(`Starting wrangler dev on http://localhost:${port}`);
    wrangler.on('exit', (code) => void stop(code ?? 1));
  } catch (error) {
    console.error(`[dev] ${(error as Error).message}`);
    await stop(1);
  }
}

await main();
