import type { JWK } from 'jose';
import { CONNECT_TIMEOUT_MS, type DatabaseHandle, isUniqueViolation, QUERY_TIMEOUT_MS } from '../db/client';
import { sha256Base64url } from '../digest';
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

// The in-isolate layer of the key caches. Each read of the `jwks` table
// gives two copies, kept apart and held to their own lifetimes
// (src/jwt/policy.ts):
// - the public keys (JWKS, discovery): no private key and no decryption, so
//   publishing never depends on BETTER_AUTH_SECRET opening a key. Fresh for
//   ISOLATE_KEY_CACHE_MS, then still served while a background refresh runs,
//   and while the database is unreachable (up to ISOLATE_KEY_STALE_LIMIT_MS),
//   so the JWKS never waits;
// - which key signs, as of that read: refreshed in the background after
//   SIGNING_KEY_REFRESH_MS and never used past SIGNING_KEY_MAX_AGE_MS, so a
//   revoked key stops signing within that bound.
// Only a token decrypts, and only the current key; the imported key is kept
// by kid (a kid's key never changes), so rereading the table decrypts nothing
// while the same key signs.
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

/** The published half of a key-table read: public keys only. */
export interface PublicKeySnapshot {
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
}

/** The signing half of a key-table read: which key signs, its private key still encrypted. */
interface SigningKeyCopy {
  /** As PublicKeySnapshot.loadedAt. */
  loadedAt: number;
  /** Undefined when the key store has no signing key. */
  current: { kid: string; alg: string; encryptedPrivateKey: string } | undefined;
}

interface KeyTableRead {
  publicKeys: PublicKeySnapshot;
  signing: SigningKeyCopy;
}

export interface KeySource {
  /** Identifies the key store (the database); one copy of each kind per key store. */
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

/** Key stores this isolate keeps copies of; one in production, several in tests. */
const MAX_SNAPSHOTS = 8;
/** Imported signing keys kept by kid: one signs at a time, so a few cover rotations and revocations. */
const MAX_SIGNERS = 4;
/**
 * At most one background refresh per key store in this window. One that
 * fails is not retried within the signing grace: past SIGNING_KEY_MAX_AGE_MS
 * the next token request reads the key table itself.
 */
const BACKGROUND_REFRESH_INTERVAL_MS = 30_000;
const publicSnapshots = new Map<string, PublicKeySnapshot>();
const signingCopies = new Map<string, SigningKeyCopy>();
const signersByKid = new Map<string, Signer>();
const backgroundRefreshStartedAt = new Map<string, number>();

/** Keeps `value` under `key`, dropping the oldest entry once `map` holds `max`. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

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
  return `"${await sha256Base64url(body)}"`;
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

async function refresh(source: KeySource): Promise<KeyTableRead> {
  refreshCounts.started++;
  const readAt = Date.now();
  const { db, close } = source.openDb();
  try {
    const keys = await loadKeys(db, source);
    const current = keys.find((key) => keyState(key) === 'current');
    const publicKeys = keys.map(publicJwk);
    const body = JSON.stringify({ keys: publicKeys });
    const previous = publicSnapshots.get(source.id);
    const read: KeyTableRead = {
      publicKeys: {
        loadedAt: readAt,
        body,
        etag: previous?.body === body ? previous.etag : await strongEtag(body),
        algorithms: [...new Set(publicKeys.map((key) => key.alg as string))],
      },
      signing: {
        loadedAt: readAt,
        current: current && {
          kid: current.id,
          alg: current.alg ?? 'EdDSA',
          encryptedPrivateKey: current.privateKey,
        },
      },
    };
    remember(publicSnapshots, source.id, read.publicKeys, MAX_SNAPSHOTS);
    remember(signingCopies, source.id, read.signing, MAX_SNAPSHOTS);
    return read;
  } finally {
    refreshCounts.settled++;
    source.waitUntil(close());
  }
}

/** Whether an isolate copy is within its fresh lifetime (and may be stored in the edge cache). */
export function isFresh(snapshot: PublicKeySnapshot, now: number = Date.now()): boolean {
  return now - snapshot.loadedAt < ISOLATE_KEY_CACHE_MS;
}

function refreshInBackground(source: KeySource, copyLoadedAt: number, now: number): void {
  const lastStarted = backgroundRefreshStartedAt.get(source.id) ?? 0;
  if (now - lastStarted < BACKGROUND_REFRESH_INTERVAL_MS) return;
  backgroundRefreshStartedAt.set(source.id, now);
  source.waitUntil(
    refresh(source).catch((error: unknown) => {
      const staleSeconds = Math.round((now - copyLoadedAt) / 1000);
      console.warn(
        JSON.stringify({ level: 'warn', event: 'key_refresh_failed', error: (error as Error).name, staleSeconds }),
      );
    }),
  );
}

/** This isolate's copy in `copies` while `lifetime` allows it, refreshed in the background once due. */
function copyWithin<C extends { loadedAt: number }>(
  copies: Map<string, C>,
  fromRead: (read: KeyTableRead) => C,
  source: KeySource,
  lifetime: CopyLifetime,
  now: number,
): Promise<C> {
  const cached = copies.get(source.id);
  if (!cached || now - cached.loadedAt >= lifetime.maxAgeMs) return refresh(source).then(fromRead);
  if (now - cached.loadedAt >= lifetime.refreshAfterMs) refreshInBackground(source, cached.loadedAt, now);
  return Promise.resolve(cached);
}

/** The published key set for `source` (JWKS, discovery), from this isolate when possible. */
export function getPublicKeySnapshot(source: KeySource, now: number = Date.now()): Promise<PublicKeySnapshot> {
  return copyWithin(publicSnapshots, (read) => read.publicKeys, source, FOR_PUBLISHING, now);
}

/**
 * The key to sign with, as named by a copy no older than
 * SIGNING_KEY_MAX_AGE_MS. Throws when an older copy cannot be refreshed
 * (signing with it could use a revoked key), when the key store has no
 * signing key, or when the current key cannot be decrypted.
 */
export async function getSigner(source: KeySource, now: number = Date.now()): Promise<Signer> {
  const { current } = await copyWithin(signingCopies, (read) => read.signing, source, FOR_SIGNING, now);
  if (!current) throw new Error('The key store has no signing key; run the rotation (npm run keys:rotate).');
  const imported = signersByKid.get(current.kid);
  if (imported) return imported;
  const { jwk } = await decryptPrivateKey(current.kid, current.encryptedPrivateKey, source.secrets);
  const signer: Signer = { kid: current.kid, alg: current.alg, key: await importPrivateKey(jwk, current.alg) };
  remember(signersByKid, current.kid, signer, MAX_SIGNERS);
  return signer;
}

/** Drops every key copy of this isolate, as in a cold one, so the next request reads the key store. */
export function forgetKeySnapshots(): void {
  publicSnapshots.clear();
  signingCopies.clear();
  signersByKid.clear();
  backgroundRefreshStartedAt.clear();
}
