// How long things live, and why these values fit together.
//
// A verifier can hold a JWKS copy for at most MAX_JWKS_STALENESS:
//   our isolate copy (fresh for ISOLATE_KEY_CACHE_MS, then served stale for
//   up to ISOLATE_KEY_STALE_LIMIT_MS while the database cannot be read)
//   + a downstream cache (browser, CDN, HTTP cache of the verifier) that keeps
//   it max-age + stale-while-revalidate, or stale-if-error while we fail
//   + the verifier's own key cache (jose, PyJWKClient and go-oidc keep keys
//   5-10 minutes and refetch for an unknown kid).
// An isolate signs with the key it read for at most SIGNING_KEY_MAX_AGE, so a
// key retired or revoked in the database signs nothing after that.
// Rotation stays invisible to verifiers when
//   PUBLISH_AHEAD >= MAX_JWKS_STALENESS            (a new key is known before it signs)
//   RETIRED_KEY_RETENTION >= SIGNING_KEY_MAX_AGE + TOKEN_LIFETIME + MAX_JWKS_STALENESS
//                                                  (an old key outlives its last token)
// Both are checked below, when the module loads.

/** Signing algorithms JWT_ALG may name. */
export const JWT_ALGORITHMS = ['EdDSA', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Lifetime of the JWTs from /api/auth/token. */
export const TOKEN_LIFETIME_SECONDS = 15 * 60;

/** Cache-Control for the JWKS and discovery documents, in seconds. */
export const JWKS_MAX_AGE_SECONDS = 5 * 60;
export const JWKS_STALE_WHILE_REVALIDATE_SECONDS = 5 * 60;
export const JWKS_STALE_IF_ERROR_SECONDS = 6 * 60 * 60;

/** How long an isolate serves the public keys it read (JWKS, discovery) before refreshing them. */
export const ISOLATE_KEY_CACHE_MS = 5 * MINUTE;
/** How long past that an isolate still serves its copy while the database cannot be read. */
export const ISOLATE_KEY_STALE_LIMIT_MS = 6 * HOUR;

// The signing key is held to a far shorter bound than the public keys. An
// emergency revocation (`npm run keys:rotate -- --revoke <kid>`) deletes a key
// that every verifier refuses once it refetches the JWKS, so each token an
// isolate still signs with it is a failed request downstream. Token issuance
// reads the session from the database anyway: a signing key that outlives
// the database buys no availability, it only prolongs such an outage.

/** Past this age of the isolate's copy, a token request refreshes it in the background and signs at once. */
export const SIGNING_KEY_REFRESH_MS = 45 * SECOND;
/**
 * Room for that background refresh to finish before the copy stops signing:
 * more than one key-table read can take (a connection within 5 s and the
 * query within 5 s, src/db/client.ts; checked in key-cache.ts), so in an
 * isolate with traffic no request waits for the key table while the
 * database answers. Short, because it adds to how long a revoked key signs.
 */
export const SIGNING_KEY_REFRESH_GRACE_MS = 15 * SECOND;
/**
 * The oldest copy of the signing key that signs (one minute). A token request that
 * finds an older one reads the key table first and answers 503
 * KEYS_UNAVAILABLE if it cannot. No isolate signs with a revoked key longer
 * than this after the revocation.
 */
export const SIGNING_KEY_MAX_AGE_MS = SIGNING_KEY_REFRESH_MS + SIGNING_KEY_REFRESH_GRACE_MS;
/** The longest a verifier keeps keys in its own cache before refetching. */
const VERIFIER_KEY_CACHE_MS = 10 * MINUTE;

/** Upper bound of how old a verifier's JWKS copy can be (see above). */
export const MAX_JWKS_STALENESS_MS =
  ISOLATE_KEY_CACHE_MS +
  ISOLATE_KEY_STALE_LIMIT_MS +
  Math.max(JWKS_MAX_AGE_SECONDS + JWKS_STALE_WHILE_REVALIDATE_SECONDS, JWKS_STALE_IF_ERROR_SECONDS) * SECOND +
  VERIFIER_KEY_CACHE_MS;

/** A new key is published this long before it starts signing. */
export const PUBLISH_AHEAD_MS = DAY;
/** A key signs for this long before its successor takes over. */
export const SIGNING_KEY_LIFETIME_MS = 30 * DAY;
/** A retired key stays in the JWKS this long, then is deleted. */
export const RETIRED_KEY_RETENTION_MS = DAY;

if (PUBLISH_AHEAD_MS < MAX_JWKS_STALENESS_MS)
  throw new Error('PUBLISH_AHEAD_MS is shorter than a cached JWKS can live');
if (RETIRED_KEY_RETENTION_MS < SIGNING_KEY_MAX_AGE_MS + TOKEN_LIFETIME_SECONDS * SECOND + MAX_JWKS_STALENESS_MS) {
  throw new Error('RETIRED_KEY_RETENTION_MS ends before the last token of a retired key can expire');
}
