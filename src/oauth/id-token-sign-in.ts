import { and, eq, gt } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { hashVerificationIdentifier } from '../credentials';
import { verification } from '../db/schema';
import { randomToken } from '../digest';
import { AppError, ErrorCode } from '../errors';
import type { AppEnv } from '../request-context';

// Sign-in with an id_token a native app got from the provider's SDK
// (POST /api/auth/sign-in/social { provider, idToken: { token, nonce } }).
// Better Auth checks the token's signature, issuer, audience and age, and its
// `nonce` claim against the nonce sent beside it; it has no nonce of its own,
// so without one a stored or intercepted id_token signs in again and again
// for its lifetime (an hour at Google). Here the nonce must be one we issued,
// for that provider, unexpired, and it is spent by the first sign-in that
// presents it. Off unless ID_TOKEN_SIGN_IN_PROVIDERS names the provider.

/** How long an issued nonce waits for its sign-in: the SDK's consent screen takes seconds. */
export const ID_TOKEN_NONCE_TTL_SECONDS = 10 * 60;

const NONCE_PURPOSE = 'id-token-nonce:';

function disabled(provider: string): AppError {
  return new AppError(
    400,
    ErrorCode.ID_TOKEN_SIGN_IN_DISABLED,
    `Signing in or linking with a ${provider} id_token is not offered here; use the redirect flow (GET /api/auth/sign-in/:provider, or POST /api/auth/link-social without idToken).`,
  );
}

/** POST /id-token-nonce { provider } → { nonce, expiresAt }: put the nonce into the provider's sign-in request. */
export const issueIdTokenNonce: MiddlewareHandler<AppEnv> = async function issueIdTokenNonce(c) {
  const provider = c.var.body?.provider as string;
  if (!c.var.config.idTokenSignInProviders.some((id) => id === provider)) throw disabled(provider);
  const nonce = randomToken();
  const expiresAt = new Date(Date.now() + ID_TOKEN_NONCE_TTL_SECONDS * 1000);
  await c.var.db.insert(verification).values({
    id: crypto.randomUUID(),
    // Stored as a digest like every other verification identifier (src/credentials.ts).
    identifier: await hashVerificationIdentifier(NONCE_PURPOSE + nonce),
    value: provider,
    expiresAt,
  });
  return c.json({ nonce, expiresAt: expiresAt.toISOString() }, 200, { 'cache-control': 'no-store' });
};

/**
 * In front of POST /sign-in/social and POST /link-social (Better Auth links an
 * id_token with no nonce and no account policy): a body with `idToken` passes only for an
 * enabled provider and with a nonce we issued for it, which is spent here,
 * before Better Auth checks the token, so a replay fails even if the token
 * would verify.
 */
export const checkIdTokenSignIn: MiddlewareHandler<AppEnv> = async function checkIdTokenSignIn(c, next) {
  const body = c.var.body;
  if (body?.idToken === undefined) return next();
  const provider = body.provider as string;
  if (!c.var.config.idTokenSignInProviders.some((id) => id === provider)) throw disabled(provider);
  const nonce = (body.idToken as { nonce?: unknown } | null)?.nonce;
  if (typeof nonce !== 'string' || nonce === '') {
    throw new AppError(
      400,
      ErrorCode.VALIDATION_ERROR,
      'idToken.nonce is required: get one from POST /api/auth/id-token-nonce and pass it to the provider.',
    );
  }
  const [spent] = await c.var.db
    .delete(verification)
    .where(
      and(
        eq(verification.identifier, await hashVerificationIdentifier(NONCE_PURPOSE + nonce)),
        eq(verification.value, provider),
        gt(verification.expiresAt, new Date()),
      ),
    )
    .returning({ id: verification.id });
  if (!spent) {
    throw new AppError(400, ErrorCode.INVALID_NONCE, 'This nonce was not issued here, was used already, or expired.');
  }
  await next();
};
