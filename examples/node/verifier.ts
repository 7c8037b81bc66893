import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

export interface VerifierOptions {
  /** BETTER_AUTH_URL of the auth Worker: the expected `iss`. */
  issuer: string;
  /** The expected `aud` (the Worker's JWT_AUDIENCE, by default its URL). */
  audience: string;
  /** Defaults to the issuer's /api/auth/jwks. */
  jwksUrl?: string;
  /**
   * Accept only tokens whose user signed in with two factors: `amr` holds
   * `mfa` (a password and a TOTP or backup code, or a passkey with user
   * verification). docs/passkeys-and-two-factor.md lists the values.
   */
  requireMfa?: boolean;
}

/** A token that verified but whose sign-in was not multi-factor. */
export class MfaRequiredError extends Error {
  readonly code = 'ERR_MFA_REQUIRED';
  constructor() {
    super('mfa required: the token\'s amr claim has no "mfa"');
  }
}

/**
 * A token verifier for a Node backend. createRemoteJWKSet caches the key set
 * and refetches it when a token names a key it does not know (a rotation).
 */
export function createVerifier({ issuer, audience, jwksUrl, requireMfa }: VerifierOptions) {
  const keys = createRemoteJWKSet(new URL(jwksUrl ?? `${issuer}/api/auth/jwks`));
  return async function verifyToken(token: string, currentDate?: Date): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: ['EdDSA', 'RS256'], // never `none`, never a symmetric algorithm
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate,
    });
    if (requireMfa && !(Array.isArray(payload.amr) && payload.amr.includes('mfa'))) throw new MfaRequiredError();
    return payload;
  };
}
