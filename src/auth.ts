import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { bearer } from 'better-auth/plugins/bearer';
import { type JWKOptions, jwt } from 'better-auth/plugins/jwt';
import type { Database } from './db/client';
import * as schema from './db/schema';
import type { AppConfig, JwtAlgorithm } from './env';
import { readSigningKeys } from './jwt/signing-keys';

export const AUTH_BASE_PATH = '/api/auth';

/** Lifetime of the JWTs from /api/auth/token. */
export const JWT_LIFETIME = '15m';

const KEY_PAIR_CONFIGS: Record<JwtAlgorithm, JWKOptions> = {
  EdDSA: { alg: 'EdDSA', crv: 'Ed25519' },
  RS256: { alg: 'RS256', modulusLength: 2048 },
};

/**
 * Builds the Better Auth instance for one request. Bindings and the database
 * pool are per request on Workers, so the instance is too; everything in it
 * comes from validated config, never from request headers.
 */
export function createAuth(config: AppConfig, db: Database) {
  return betterAuth({
    appName: 'auth-worker',
    baseURL: config.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: config.secret,
    trustedOrigins: config.trustedOrigins,
    database: drizzleAdapter(db, { provider: 'pg', schema }),
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    advanced: {
      // Cloudflare sets this header and clients cannot; X-Forwarded-For can be forged.
      ipAddress: { ipAddressHeaders: ['cf-connecting-ip'] },
    },
    plugins: [
      bearer(),
      jwt({
        jwks: { keyPairConfig: KEY_PAIR_CONFIGS[config.jwtAlg] },
        jwt: {
          issuer: config.baseURL,
          audience: config.jwtAudience,
          expirationTime: JWT_LIFETIME,
          // A deliberate, small claim set: backends get identity, not the user row.
          definePayload: ({ user }) => ({
            id: user.id,
            email: user.email,
            name: user.name,
            emailVerified: user.emailVerified,
          }),
        },
        adapter: { getJwks: () => readSigningKeys(db, config.jwtAlg) },
      }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
