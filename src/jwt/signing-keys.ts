import type { JWSAlgorithms, Jwk } from 'better-auth/plugins/jwt';
import { asc } from 'drizzle-orm';
import type { Database } from '../db/client';
import { jwks } from '../db/schema';
import type { JwtAlgorithm } from '../env';

/**
 * Reads the key set for Better Auth's JWT plugin, applying our rule for a
 * change of JWT_ALG.
 *
 * Stock Better Auth keeps signing with the newest existing key when the
 * configured algorithm changes, so setting JWT_ALG=RS256 would silently keep
 * issuing EdDSA tokens. Here a key of another algorithm is reported as
 * retired: Better Auth then creates a key of the configured algorithm on the
 * next signature, and keeps publishing the old key in the JWKS for its grace
 * period (30 days after the key that replaced it), so tokens it signed keep
 * verifying. Nothing is written by this read.
 */
export async function readSigningKeys(db: Database, alg: JwtAlgorithm): Promise<Jwk[]> {
  // A moment just before this read: Better Auth treats a key as signing only
  // while expiresAt is after the time it took before asking us.
  const retiredNow = new Date(Date.now() - 1_000);
  const rows = await db.select().from(jwks).orderBy(asc(jwks.createdAt));

  return rows.map((row) => {
    let expiresAt = row.expiresAt ?? undefined;
    if (!expiresAt && row.alg !== alg) {
      // It stopped signing when the first key of the configured algorithm
      // after it was created; if there is none yet, it stops now.
      expiresAt = rows.find((later) => later.alg === alg && later.createdAt > row.createdAt)?.createdAt ?? retiredNow;
    }
    return {
      id: row.id,
      publicKey: row.publicKey,
      privateKey: row.privateKey,
      createdAt: row.createdAt,
      expiresAt,
      alg: (row.alg ?? undefined) as JWSAlgorithms | undefined,
      crv: (row.crv ?? undefined) as Jwk['crv'],
    };
  });
}
