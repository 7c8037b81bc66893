import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

// Configuration for the Node-side commands (dev server, key rotation): .dev.vars,
// with the process environment winning for every variable.

export const ROOT = new URL('../..', import.meta.url).pathname;
/** .data/, or AUTH_WORKER_DATA_DIR (the dev-tooling tests run `npm run dev` on a folder of their own). */
export const DATA_DIR = process.env.AUTH_WORKER_DATA_DIR || `${ROOT}.data`;
export const EMBEDDED_DATA_DIR = `${DATA_DIR}/pglite`;
/** Written by `npm run dev` while it serves the embedded database, for other commands to reach it. */
export const EMBEDDED_URL_FILE = `${DATA_DIR}/embedded-database-url`;

const DEV_VARS = `${ROOT}.dev.vars`;
const EXAMPLE_VARS = `${ROOT}.dev.vars.example`;

export function log(message: string): void {
  console.log(`[auth-worker] ${message}`);
}

/** Every variable named in .dev.vars.example or .dev.vars, from the environment or .dev.vars. */
export function loadLocalVariables(): Record<string, string> {
  const known = Object.keys(parseEnv(readFileSync(EXAMPLE_VARS, 'utf8')));
  const fromFile = existsSync(DEV_VARS) ? parseEnv(readFileSync(DEV_VARS, 'utf8')) : {};
  const merged: Record<string, string> = {};
  for (const name of new Set([...known, ...Object.keys(fromFile), 'PORT'])) {
    const value = process.env[name] ?? fromFile[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  return merged;
}

/**
 * Writes a file that only this user can read, whatever was at `path` before:
 * a mode given to writeFileSync applies only when it creates the file, so a
 * fresh 0600 file replaces the old one (which a reader that opened it earlier
 * keeps, with none of the new content).
 */
export function writeOwnerOnlyFile(path: string, content: string): void {
  const fresh = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(fresh, content, { mode: 0o600, flag: 'wx' });
    renameSync(fresh, path);
  } finally {
    rmSync(fresh, { force: true });
  }
}

/** The data folder, this user's only (also when an older version made it 0755). */
export function ensureDataDir(): void {
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  chmodSync(DATA_DIR, 0o700);
}

/** A dev-only secret, kept in .data/ so sessions and signing keys survive restarts. */
export function devSecret(): string {
  ensureDataDir();
  const path = `${DATA_DIR}/dev-secret`;
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600 });
  log(`No BETTER_AUTH_SECRET set: using the generated dev-only secret in ${path}. Never use it in production.`);
  return readFileSync(path, 'utf8').trim();
}

export function isNeon(databaseUrl: string): boolean {
  return new URL(databaseUrl).hostname.endsWith('.neon.tech');
}

export function redactedUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}
