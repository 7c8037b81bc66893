import { base64url, type JWK } from 'jose';
import type { DatabaseHandle } from '../db/client';
import { decryptPrivateKey, importPrivateKey, type KeySecrets } from './key-crypto';
import { type KeyDatabase, keyState, readKeys, rotateSigningKeys, type StoredKey } from './key-store';
import type { JwtAlgorithm } from './policy';
import { ISOLATE_KEY_CACHE_MS, ISOLATE_KEY_STALE_LIMIT_MS } from './policy';

// The in-isolate layer of the key caches: what an isolate read from the `jwks`
// table, with the signing key already decrypted and imported. Fresh for
// ISOLATE_KEY_CACHE_MS; after that it is still served while a background
// refresh runs, and while the database is unreachable (up to
// ISOLATE_KEY_STALE_LIMIT_MS), so neither the JWKS nor token issuance waits.
//
// A refresh belongs to the request that started it: Workers cancel a
// request's I/O when it ends, so no request ever awaits another's refresh.

export interface Signer {
  kid: string;
  alg: string;
  key: CryptoKey;
}

export interface KeySnapshot {
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

const MAX_SNAPSHOTS = 8;
/** At most one background refresh per key store in this window. */
const BACKGROUND_REFRESH_INTERVAL_MS = 30_000;
const snapshots = new Map<string, KeySnapshot>();
const backgroundRefreshStartedAt = new Map<string, number>();

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
      loadedAt: Date.now(),
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
    source.waitUntil(close());
  }
}

/** Whether an isolate copy is within its fresh lifetime (and may be stored in the edge cache). */
export function isFresh(snapshot: KeySnapshot, now: number = Date.now()): boolean {
  return now - snapshot.loadedAt < ISOLATE_KEY_CACHE_MS;
}

/** The key set for `source`, from this isolate when possible. */
export async function getKeySnapshot(source: KeySource, now: number = Date.now()): Promise<KeySnapshot> {
  const cached = snapshots.get(source.id);
  if (!cached) return refresh(source, undefined);
  if (isFresh(cached, now)) return cached;
  if (now - cached.loadedAt >= ISOLATE_KEY_CACHE_MS + ISOLATE_KEY_STALE_LIMIT_MS) return refresh(source, cached);

  const lastStarted = backgroundRefreshStartedAt.get(source.id) ?? 0;
  if (now - lastStarted >= BACKGROUND_REFRESH_INTERVAL_MS) {
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
  return cached;
}

/** Drops this isolate's snapshots, so the next request reads the key store (after a rotation here). */
export function forgetKeySnapshots(): void {
  snapshots.clear();
  backgroundRefreshStartedAt.clear();
}
