// Two PGlite instances on one data folder corrupt it without an error, so the
// folder is locked with a file naming the process that holds it, and a lock
// whose process is gone is taken over.
//
// Taking over is where two servers can both win: both read the same stale
// lock, one removes it and puts its own, and the other, acting on what it
// read, removes that live lock and puts its own. So a file is only ever
// removed as "still holding what I read" by the one process that created the
// claim file named after that content (O_EXCL: one winner). While the stale
// content sits in the lock nobody else can replace it, so the claim holder's
// check and removal cannot be raced. Contents carry a random nonce, so no two
// locks (or claims) ever hold the same content.
import { createHash, randomUUID } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long to wait for another server that is in the middle of a takeover. */
const ATTEMPTS = 50;
const ATTEMPT_INTERVAL_MS = 20;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process, and a nonce that makes the content unique. */
function newContent(): string {
  return `${process.pid} ${randomUUID()}\n`;
}

/** The pid a lock or claim names; an older version wrote the pid alone. */
function ownerOf(content: string): number | undefined {
  const pid = Number.parseInt(content, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isHeld(content: string): boolean {
  const owner = ownerOf(content);
  return owner !== undefined && isRunning(owner);
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `path` with `content` if nothing is there. A hard link puts the
 * whole file in place at once, so no reader ever sees it empty (as it could
 * between an O_EXCL open and the write).
 */
function createExclusive(path: string, content: string): boolean {
  const draft = `${path}.${randomUUID()}.draft`;
  writeFileSync(draft, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(draft, { force: true });
  }
}

/**
 * Removes `path` if it still holds `content`, whose owner is gone, unless
 * another live process is already doing so; the caller looks again either
 * way. A claim left by a process that died is itself taken over the same way.
 */
function removeStale(path: string, content: string): void {
  const claim = `${path}.takeover-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
  if (!createExclusive(claim, newContent())) {
    const claimContent = readIfPresent(claim);
    if (claimContent !== undefined && !isHeld(claimContent)) removeStale(claim, claimContent);
    return;
  }
  try {
    if (readIfPresent(path) === content) rmSync(path);
  } finally {
    rmSync(claim, { force: true });
  }
}

/** Locks `dataDir` for this process; the returned function unlocks it. */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const lockPath = `${dataDir}.lock`;
  const mine = newContent();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusive(lockPath, mine)) {
      return () => {
        // Nobody takes over the lock of a live process, so it is still ours.
        if (readIfPresent(lockPath) === mine) rmSync(lockPath, { force: true });
      };
    }
    const current = readIfPresent(lockPath);
    if (current === undefined) continue; // unlocked meanwhile
    if (isHeld(current)) {
      throw new Error(`The embedded database in ${dataDir} is in use by process ${ownerOf(current)}; stop it first.`);
    }
    removeStale(lockPath, current);
    // Another server may be in the middle of taking it over: give it a moment.
    if (readIfPresent(lockPath) === current) await sleep(ATTEMPT_INTERVAL_MS);
  }
  throw new Error(`Could not lock ${dataDir}: another server kept taking it over; try again.`);
}
