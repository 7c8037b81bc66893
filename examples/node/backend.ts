import { Hono, type MiddlewareHandler } from 'hono';
import type { JWTPayload } from 'jose';
import { createVerifier, MfaRequiredError, type VerifierOptions } from './verifier';

/** Hono middleware for a backend: a valid `Authorization: Bearer <JWT>` or 401. */
export function requireJwt(options: VerifierOptions): MiddlewareHandler<{ Variables: { claims: JWTPayload } }> {
  const verifyToken = createVerifier(options);
  return async function jwtGuard(c, next) {
    const token = c.req.header('authorization')?.match(/^Bearer (.+)$/)?.[1];
    if (!token) return c.json({ code: 'UNAUTHORIZED', message: 'Send Authorization: Bearer <JWT>.' }, 401);
    try {
      c.set('claims', await verifyToken(token));
    } catch {
      return c.json({ code: 'INVALID_TOKEN', message: 'The token is invalid or expired.' }, 401);
    }
    await next();
  };
}

/**
 * Backend routes protected by the auth Worker's JWTs; the payouts route also
 * wants a sign-in with two factors (`amr` has `mfa`), and says so with 403
 * MFA_REQUIRED, so the app can send the user to set up or use a second factor.
 */
export function createBackend(options: VerifierOptions) {
  const verifyMfa = createVerifier({ ...options, requireMfa: true });
  return new Hono<{ Variables: { claims: JWTPayload } }>()
    .get('/orders', requireJwt(options), (c) => c.json({ userId: c.get('claims').sub, orders: [] }))
    .get('/payouts', requireJwt(options), async (c) => {
      const token = c.req.header('authorization')?.slice('Bearer '.length) ?? '';
      try {
        await verifyMfa(token);
      } catch (error) {
        if (error instanceof MfaRequiredError) {
          return c.json({ code: 'MFA_REQUIRED', message: 'Sign in with a second factor to see payouts.' }, 403);
        }
        throw error;
      }
      return c.json({ userId: c.get('claims').sub, payouts: [] });
    });
}
