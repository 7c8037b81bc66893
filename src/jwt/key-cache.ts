import { base64url, type JWK } from 'jose';
import { CONNECT_TIMEOUT_MS, type DatabaseHandle, QUERY_TIMEOUT_MS } from '../db/client';
import { decryptPrivateKey, importPrivateKey, type KeySecrets } from './key-crypto';
import { type KeyDatabase, keyState, readKeys, rotateSigningKeys, type StoredKey } from './key-store';
import type { JwtAlgorithm } from './policy';
import {
  ISOLATE_KEY_CACHE_MS,
  ISOLATE_KEY_STALE_LIMIT_MS,
  SIGNING_KEY_MAX_AGE_MS,
  SIGNING_KEY_REFRESH_GRACE_MS,
  SIGNING_KEY_REFRESH_MS,
} from './policy';

// The in-isolate layer of the key caches: what an isolate read from the `jwks`
// table, with the signing key already decrypted and imported. One copy, held
// to two lifetimes (src/jwt/policy.ts):
// - the public keys are fresh for ISOLATE_KEY_CACHE_MS, then still served
//   while a background refresh runs, and while the database is unreachable
//   (up to ISOLATE_KEY_STALE_LIMIT_MS), so the JWKS never waits;
// - the signing key is refreshed in the background after
//   SIGNING_KEY_REFRESH_MS and never signs past SIGNING_KEY_MAX_AGE_MS, so a
//   revoked key stops signing within that bound.
//
// A refresh belongs to the request that started it: Workers cancel a
// request's I/O when it ends, so no request ever awaits another's refresh.

// A background refresh must be able to finish inside the grace, or busy
// isolates would make requests wait for the key table.
if (SIGNING_KEY_REFRESH_GRACE_MS <= CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS) {
  throw new Error('SIGNING_KEY_REFRESH_GRACE_MS is shorter than one key-table read may take');
}

export interface Signer {
  kid: string;
  alg: string;
  key: CryptoKey;
}

export interface KeySnapshot {
  /**
   * When the key-table read began: the copy is the table as it was then or
   * later, so a key deleted before this time is not in it.
   */
  loadedAt: number;
  /** The JWKS document and its strong ETag. */
  body: string;
  etag: string;
  /** Algorithms of the published keys. */
  algorithms: string[];
  signer: Signer;
}

export interface KeySource {
  /** Identifies the key store (the database); one snapshot per key store. */
  id: string;
  alg: JwtAlgorithm;
  secrets: KeySecrets;
  openDb: () => DatabaseHandle;
  waitUntil: (work: Promise<unknown>) => void;
}

/** When a copy is refreshed in the background, and past which age it is not used at all. */
interface CopyLifetime {
  refreshAfterMs: number;
  maxAgeMs: number;
}

const FOR_PUBLISHING: CopyLifetime = {
  refreshAfterMs: ISOLATE_KEY_CACHE_MS,
  maxAgeMs: ISOLATE_KEY_CACHE_MS + ISOLATE_KEY_STALE_LIMIT_MS,
};
const FOR_SIGNING: CopyLifetime = { refreshAfterMs: SIGNING_KEY_REFRESH_MS, maxAgeMs: SIGNING_KEY_MAX_AGE_MS };

const MAX_SNAPSHOTS = 8;
/**
 * At most one background refresh per key store in this window. One that
 * fails is not retried within the signing grace: past SIGNING_KEY_MAX_AGE_MS
 * the next token request reads the key table itself.
 */
const BACKGROUND_REFRESH_INTERVAL_MS = 30_000;
const snapshots = new Map<string, KeySnapshot>();
const backgroundRefreshStartedAt = new Map<string, number>();

// Key-table reads of this isolate, started and settled: tests prove with them
// that a request does not wait for the background refresh it starts.
const refreshCounts = { started: 0, settled: 0 };
export function keyRefreshes(): Readonly<typeof refreshCounts> {
  return { ...refreshCounts };
}

function publicJwk(key: StoredKey): JWK {
  const jwk = JSON.parse(key.publicKey) as JWK;
  return { ...jwk, kid: key.id, alg: key.alg ?? 'EdDSA', use: 'sig' };
}

/** A strong ETag: a hash of the exact bytes served. */
export async function strongEtag(body: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body));
  return `"${base64url.encode(new Uint8Array(digest))}"`;
}

function isUniqueViolation(error: unknown): boolean {
  for (let cause = error; cause instanceof Object; cause = (cause as { cause?: unknown }).cause) {
    if ((cause as { code?: string }).code === '23505') return true;
  }
  return false;
}

async function loadKeys(db: KeyDatabase, source: KeySource): Promise<StoredKey[]> {
  const keys = await readKeys(db);
  if (keys.length > 0) return keys;
  // First use of an empty key store: create the first key now rather than
  // make the first deployment wait for the cron. Nobody can have cached a
  // JWKS yet, so there is nothing to publish ahead of. Any other state
  // without a signing key is repaired by the cron or `npm run keys:rotate`.
  await rotateSigningKeys(db, { alg: source.alg, secrets: source.secrets }).catch((error) => {
    if (!isUniqueViolation(error)) throw error; // another isolate won the race
  });
  return readKeys(db);
}

async function refresh(source: KeySource, previous: KeySnapshot | undefined): Promise<KeySnapshot> {
  refreshCounts.started++;
  const readAt = Date.now();
  const { db, close } = source.openDb();
  try {
    const keys = await loadKeys(db, source);
    const current = keys.find((key) => keyState(key) === 'current');
    if (!current) throw new Error('The key store has no signing key; run the rotation (npm run keys:rotate).');

    // The same key as before: reuse the imported CryptoKey, no decryption.
    let signer = previous?.signer.kid === current.id ? previous.signer : undefined;
    if (!signer) {
      const alg = current.alg ?? 'EdDSA';
      const { jwk } = await decryptPrivateKey(current.id, current.privateKey, source.secrets);
      signer = { kid: current.id, alg, key: await importPrivateKey(jwk, alg) };
    }

    const publicKeys = keys.map(publicJwk);
    const body = JSON.stringify({ keys: publicKeys });
    const snapshot: KeySnapshot = {
      loadedAt: readAt,
      body,
      etag: previous?.body === body ? previous.etag : await strongEtag(body),
      algorithms: [...new Set(publicKeys.map((key) => key.alg as string))],
      signer,
    };
    if (!snapshots.has(source.id) && snapshots.size >= MAX_SNAPSHOTS) {
      snapshots.delete(snapshots.keys().next().value as string);
    }
    snapshots.set(source.id, snapshot);
    return snapshot;
  } finally {
    refreshCounts.settled++;
    source.waitUntil(close());
  }
}

/** Whether an isolate copy is within its fresh lifetime (and may be stored in the edge cache). */
export function isFresh(snapshot: KeySnapshot, now: number = Date.now()): boolean {
  return now - snapshot.loadedAt < ISOLATE_KEY_CACHE_MS;
}

function refreshInBackground(source: KeySource, cached: KeySnapshot, now: number): void {
  const lastStarted = backgroundRefreshStartedAt.get(source.id) ?? 0;
  if (now - lastStarted < BACKGROUND_REFRESH_INTERVAL_MS) return;
  backgroundRefreshStartedAt.set(source.id, now);
  source.waitUntil(
    refresh(source, cached).catch((error: unknown) => {
      const staleSeconds = Math.round((now - cached.loadedAt) / 1000);
      console.warn(
        JSON.stringify({ level: 'warn', event: 'key_refresh_failed', error: (error as Error).name, staleSeconds }),
      );
    }),
  );
}

/** This isolate's copy while `lifetime` allows it, refreshed in the background once due. */
function snapshotWithin(source: KeySource, lifetime: CopyLifetime, now: number): Promise<KeySnapshot> {
  const cached = snapshots.get(source.id);
  if (!cached) return refresh(source, undefined);
  const age = now - cached.loadedAt;
  if (age >= lifetime.maxAgeMs) return refresh(source, cached);
  if (age >= lifetime.refreshAfterMs) refreshInBackground(source, cached, now);
  return Promise.resolve(cached);
}

/** The published key set for `source` (JWKS, discovery), from this isolate when possible. */
export function getKeySnapshot(source: KeySource, now: number = Date.now()): Promise<KeySnapshot> {
  return snapshotWithin(source, FOR_PUBLISHING, now);
}

/**
 * The key to sign with, from a copy no older than SIGNING_KEY_MAX_AGE_MS.
 * Throws when an older copy cannot be refreshed: signing with it could use a
 * revoked key.
 */
export async function getSigner(source: KeySource, now: number = Date.now()): Promise<Signer> {
  return (await snapshotWithin(source, FOR_SIGNING, now)).signer;
}

/** Drops this isolate's snapshots, so the next request reads the key store (after a rotation here). */
export function forgetKeySnapshots(): void {
  snapshots.clear();
  backgroundRefreshStartedAt.clear();
}
