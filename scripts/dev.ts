// `npm run dev`: zero-setup local development.
// Reads .dev.vars, lets the process environment override any variable, starts
// the embedded Postgres when DATABASE_URL is unset, puts the WebSocket proxy
// and the HTTP query endpoint in front of any non-Neon Postgres, applies
// migrations and runs `wrangler dev`.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startEmbeddedPostgres } from './lib/embedded-postgres.ts';
import {
  DATA_DIR,
  devSecret,
  EMBEDDED_DATA_DIR,
  EMBEDDED_URL_FILE,
  ensureDataDir,
  isNeon,
  loadLocalVariables,
  log,
  ROOT,
  redactedUrl,
  writeOwnerOnlyFile,
} from './lib/local-config.ts';
import { applyMigrations } from './lib/migrate.ts';
import { startSqlOverHttp } from './lib/sql-over-http.ts';
import { postgresAddress, startWsProxy } from './lib/ws-proxy.ts';

async function main(): Promise<void> {
  // Everything this run creates (the data folder, wrangler's state and
  // bundles) is this user's only, whatever the shell's umask.
  process.umask(0o077);
  ensureDataDir();
  const vars = loadLocalVariables();
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
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  try {
    vars.BETTER_AUTH_URL ??= `http://localhost:${port}`;
    vars.BETTER_AUTH_SECRET ??= devSecret();

    if (!vars.DATABASE_URL) {
      const embedded = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR });
      stops.push(embedded.stop);
      vars.DATABASE_URL = embedded.url;
      // The URL holds the run's database password.
      writeOwnerOnlyFile(EMBEDDED_URL_FILE, embedded.url);
      stops.push(async () => rmSync(EMBEDDED_URL_FILE, { force: true }));
      log(`Embedded Postgres (PGlite, data in .data/pglite) on ${redactedUrl(embedded.url)}`);
    }

    if (isNeon(vars.DATABASE_URL)) {
      log('Neon database: the driver connects to it directly.');
    } else {
      const proxy = await startWsProxy({ targets: [postgresAddress(vars.DATABASE_URL)] });
      stops.push(proxy.stop);
      vars.DATABASE_WS_PROXY = proxy.address;
      log(`WebSocket proxy on ${proxy.listening} -> ${postgresAddress(vars.DATABASE_URL)}`);
      // Single statements go over Neon's HTTP query path, as in production.
      const httpProxy = await startSqlOverHttp({ targets: [postgresAddress(vars.DATABASE_URL)] });
      stops.push(httpProxy.stop);
      vars.DATABASE_HTTP_PROXY = httpProxy.address;
      log(`HTTP query endpoint on ${httpProxy.listening} -> ${postgresAddress(vars.DATABASE_URL)}`);
    }

    log(`Applying migrations to ${redactedUrl(vars.DATABASE_URL)}`);
    await applyMigrations(vars.DATABASE_URL);

    // wrangler reads this file instead of .dev.vars. It holds the secret, the
    // database password, the proxy's secret and provider credentials: only we
    // may read it, and it goes when this process does (but for SIGKILL).
    const envFile = `${DATA_DIR}/wrangler-dev.env`;
    const lines = Object.entries(vars).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
    writeOwnerOnlyFile(envFile, `${lines.join('\n')}\n`);
    process.on('exit', () => rmSync(envFile, { force: true }));

    // wrangler dev without its DevTools endpoint (see scripts/wrangler-dev.ts).
    // `node --import tsx`, not the tsx CLI: the CLI relays Ctrl-C to its child
    // and SIGKILLs it if it does not answer within 60 ms, which under load
    // kills a process before its cleanup (the env file, the database) runs.
    wrangler = spawn(process.execPath, ['--import', 'tsx', `${ROOT}scripts/wrangler-dev.ts`, String(port), envFile], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    log(`Starting wrangler dev on http://localhost:${port}`);
    wrangler.on('exit', (code) => void stop(code ?? 1));
  } catch (error) {
    console.error(`[auth-worker] ${(error as Error).message}`);
    await stop(1);
  }
}

await main();
