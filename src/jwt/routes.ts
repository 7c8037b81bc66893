import { type Context, Hono } from 'hono';
import { readConfig } from '../config';
import { AUTH_BASE_PATH } from '../paths';
import type { AppEnv } from '../request-context';
import { forgetKeySnapshots, isFresh, strongEtag } from './key-cache';
import { keySourceFor, readPublicKeys } from './keys';
import { JWKS_MAX_AGE_SECONDS, JWKS_STALE_IF_ERROR_SECONDS, JWKS_STALE_WHILE_REVALIDATE_SECONDS } from './policy';

// Public key documents, served edge cache → isolate cache → database. A
// repeated request touches no database; a cached copy keeps being served
// while the database is down. Nothing secret is in these documents.

export const JWKS_PATH = `${AUTH_BASE_PATH}/jwks`;
export const WELL_KNOWN_JWKS_PATH = '/.well-known/jwks.json';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

const CACHE_CONTROL = [
  'public',
  `max-age=${JWKS_MAX_AGE_SECONDS}`,
  `stale-while-revalidate=${JWKS_STALE_WHILE_REVALIDATE_SECONDS}`,
  `stale-if-error=${JWKS_STALE_IF_ERROR_SECONDS}`,
].join(', ');

interface PublicDocument {
  body: string;
  etag: string;
  /** False for a stale isolate copy: served, but never stored in the edge cache. */
  cacheable: boolean;
}

function documentHeaders(etag: string): Headers {
  return new Headers({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': CACHE_CONTROL,
    etag,
    'access-control-allow-origin': '*',
  });
}

/** RFC 9110 If-None-Match: weak comparison, a list, or `*`. */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => {
    const candidate = tag.trim();
    return candidate === '*' || candidate.replace(/^W\//, '') === bare;
  });
}

/**
 * After a rotation in this isolate: drop its key snapshot and this location's
 * edge copies, so they show the change at once. Other isolates and locations
 * see it within their cache lifetimes, which publish-ahead already covers.
 */
export async function purgeKeyCaches(baseURL: string): Promise<void> {
  forgetKeySnapshots();
  await Promise.all([JWKS_PATH, DISCOVERY_PATH].map((path) => caches.default.delete(`${baseURL}${path}`)));
}

async function servePublicDocument(
  c: Context<AppEnv>,
  cacheUrl: string,
  build: () => Promise<PublicDocument>,
): Promise<Response> {
  const cache = caches.default;
  const cacheKey = new Request(cacheUrl);
  let response = await cache.match(cacheKey);
  if (!response) {
    const document = await build();
    response = new Response(document.body, { headers: documentHeaders(document.etag) });
    if (document.cacheable) c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  }
  const etag = response.headers.get('etag') ?? '';
  if (matchesEtag(c.req.header('if-none-match'), etag)) {
    return new Response(null, { status: 304, headers: documentHeaders(etag) });
  }
  return response;
}

export const publicKeyRoutes = new Hono<AppEnv>();

const serveJwks = (c: Context<AppEnv>) => {
  const config = readConfig(c.env);
  return servePublicDocument(c, `${config.baseURL}${JWKS_PATH}`, async () => {
    const snapshot = await readPublicKeys(keySourceFor(config, c.executionCtx));
    return { body: snapshot.body, etag: snapshot.etag, cacheable: isFresh(snapshot) };
  });
};

publicKeyRoutes.get(JWKS_PATH, serveJwks);
publicKeyRoutes.get(WELL_KNOWN_JWKS_PATH, serveJwks);

publicKeyRoutes.get(DISCOVERY_PATH, (c) => {
  const config = readConfig(c.env);
  return servePublicDocument(c, `${config.baseURL}${DISCOVERY_PATH}`, async () => {
    const snapshot = await readPublicKeys(keySourceFor(config, c.executionCtx));
    // Only what we serve: an issuer and its keys. We are not an OpenID
    // provider (no authorize or token endpoint for third parties), but
    // verifier libraries configure themselves from these two fields.
    const body = JSON.stringify({
      issuer: config.baseURL,
      jwks_uri: `${config.baseURL}${JWKS_PATH}`,
      id_token_signing_alg_values_supported: snapshot.algorithms,
      subject_types_supported: ['public'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'id', 'email', 'name', 'emailVerified'],
    });
    return { body, etag: await strongEtag(body), cacheable: isFresh(snapshot) };
  });
});
