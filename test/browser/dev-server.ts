// The server the browser tests drive. With AUTH_URL, DEV_SERVER_LOG and
// BROWSER_APP_ORIGIN (one of its TRUSTED_ORIGINS) set (CI starts `npm run dev`
// itself, see .ci/run), that server and its output;
// otherwise a fresh `npm run dev` on BROWSER_DEV_PORT (default 8791), trusting
// http://localhost:BROWSER_APP_PORT (default 8792), in its own
// process group so one signal stops npm, the dev script, wrangler and workerd.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    authUrl: string;
    devServerLog: string;
    /** A web app origin the server trusts (TRUSTED_ORIGINS): the CORS tests serve their page there. */
    appOrigin: string;
    /** The server's APP_NAME: the branding the pages and emails must show. */
    appName: string;
  }
}

/** The APP_NAME the server runs with (.ci/run sets the same); BROWSER_APP_NAME when given. */
const APP_NAME = process.env.BROWSER_APP_NAME ?? 'Acme';

/** The port of the trusted web app origin when this setup starts the server itself. */
const DEFAULT_APP_PORT = '8792';

async function waitForHealth(url: string, server: ChildProcess | undefined): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (server && server.exitCode !== null) throw new Error(`npm run dev exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url}/health did not answer`);
}

export default async function setup(project: TestProject) {
  mkdirSync('test-results/screenshots', { recursive: true });
  const givenUrl = process.env.AUTH_URL;
  const givenLog = process.env.DEV_SERVER_LOG;
  const givenAppOrigin = process.env.BROWSER_APP_ORIGIN;
  if (givenUrl && givenLog && givenAppOrigin) {
    await waitForHealth(givenUrl, undefined);
    project.provide('authUrl', givenUrl);
    project.provide('devServerLog', givenLog);
    project.provide('appOrigin', givenAppOrigin);
    project.provide('appName', APP_NAME);
    return;
  }
  if (givenUrl || givenLog || givenAppOrigin) {
    throw new Error('Set AUTH_URL, DEV_SERVER_LOG and BROWSER_APP_ORIGIN (one of its TRUSTED_ORIGINS), or none.');
  }
  const appOrigin = `http://localhost:${process.env.BROWSER_APP_PORT ?? DEFAULT_APP_PORT}`;

  const port = process.env.BROWSER_DEV_PORT ?? '8791';
  const log = 'test-results/browser-dev-server.log';
  const output = openSync(log, 'w');
  const server = spawn('npm', ['run', 'dev'], {
    detached: true,
    stdio: ['ignore', output, output],
    env: { ...process.env, PORT: port, TRUSTED_ORIGINS: appOrigin, APP_NAME, WRANGLER_SEND_METRICS: 'false' },
  });
  const url = `http://localhost:${port}`;
  const stop = async () => {
    if (server.exitCode !== null || server.pid === undefined) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    process.kill(-server.pid, 'SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  };
  try {
    await waitForHealth(url, server);
  } catch (error) {
    await stop();
    throw error;
  }
  project.provide('authUrl', url);
  project.provide('devServerLog', log);
  project.provide('appOrigin', appOrigin);
  project.provide('appName', APP_NAME);
  return stop;
}
