import { Hono, type MiddlewareHandler } from 'hono';
import type { JWTPayload } from 'jose';
import { createVerifier, type VerifierOptions } from './verifier';

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

/** A backend route protected by the auth Worker's JWTs. */
export function createBackend(options: VerifierOptions) {
  return new Hono<{ Variables: { claims: JWTPayload } }>().get('/orders', requireJwt(options), (c) =>
    c.json({ userId: c.get('claims').sub, orders: [] }),
  );
}
