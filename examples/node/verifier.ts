import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

export interface VerifierOptions {
  /** BETTER_AUTH_URL of the auth Worker: the expected `iss`. */
  issuer: string;
  /** The expected `aud` (the Worker's JWT_AUDIENCE, by default its URL). */
  audience: string;
  /** Defaults to the issuer's /api/auth/jwks. */
  jwksUrl?: string;
}

/**
 * A token verifier for a Node backend. createRemoteJWKSet caches the key set
 * and refetches it when a token names a key it does not know (a rotation).
 */
export function createVerifier({ issuer, audience, jwksUrl }: VerifierOptions) {
  const keys = createRemoteJWKSet(new URL(jwksUrl ?? `${issuer}/api/auth/jwks`));
  return async function verifyToken(token: string, currentDate?: Date): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: ['EdDSA', 'RS256'], // never `none`, never a symmetric algorithm
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate,
    });
    return payload;
  };
}
