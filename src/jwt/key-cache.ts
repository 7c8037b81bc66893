import { base64url, type JWK } from 'jose';
import type { DatabaseHandle } from '../db/client';
import { decryptPrivateKey, importPrivateKey, type KeySecrets } from './key-crypto';
import { hasSigningKey, type KeyDatabase, keyState, readKeys, rotateSigningKeys, type StoredKey } from './key-store';
import type { JwtAlgorithm } from './policy';
import { ISOLATE_KEY_CACHE_MS, JWKS_STALE_IF_ERROR_SECONDS } from './policy';

// The in-isolate layer of the key caches: what an isolate read from the `jwks`
// table, with the signing key already decrypted and imported. Fresh for
// ISOLATE_KEY_CACHE_MS; after that it is still served while one background
// refresh runs, and while the database is unreachable (up to the
// stale-if-error window), so neither the JWKS nor token issuance waits on it.

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
const STALE_LIMIT_MS = JWKS_STALE_IF_ERROR_SECONDS * 1_000;
const snapshots = new Map<string, KeySnapshot>();
const refreshes = new Map<string, Promise<KeySnapshot>>();

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
  if (hasSigningKey(keys)) return keys;
  // First use of an empty key store: create the first key now rather than
  // make the first deployment wait for the cron.
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
    if (!current) throw new Error('The key store has no signing key.');

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

function startRefresh(source: KeySource, previous: KeySnapshot | undefined): Promise<KeySnapshot> {
  let pending = refreshes.get(source.id);
  if (!pending) {
    pending = refresh(source, previous).finally(() => refreshes.delete(source.id));
    refreshes.set(source.id, pending);
  }
  return pending;
}

/** The key set for `source`, from this isolate when possible. */
export async function getKeySnapshot(source: KeySource, now: number = Date.now()): Promise<KeySnapshot> {
  const cached = snapshots.get(source.id);
  if (!cached) return startRefresh(source, undefined);

  const age = now - cached.loadedAt;
  if (age < ISOLATE_KEY_CACHE_MS) return cached;
  if (age < STALE_LIMIT_MS) {
    const background = startRefresh(source, cached).catch((error: unknown) => {
      console.warn(
        JSON.stringify({
          level: 'warn',
          event: 'key_refresh_failed',
          error: (error as Error).name,
          staleSeconds: age / 1000,
        }),
      );
    });
    source.waitUntil(background);
    return cached;
  }
  return startRefresh(source, cached);
}

/** Drops this isolate's snapshots, so the next request reads the key store (after a rotation here). */
export function forgetKeySnapshots(): void {
  snapshots.clear();
}
