import type { BetterAuthPlugin } from 'better-auth';
import { addOAuthServerContext, createAuthMiddleware, getOAuthState } from 'better-auth/api';
import { type OAuth2Tokens, type OAuthProvider, verifyProviderIdToken } from 'better-auth/oauth2';
import { withDeadline } from '../deadline';

/**
 * How long one provider step of a sign-in may take: the code exchange, or
 * reading the user (for Google: fetching its signing keys; for GitHub: the
 * profile and the email list). Providers answer in well under a second; past
 * this the user gets an error redirect instead of a hanging page.
 */
export const PROVIDER_CALL_TIMEOUT_MS = 5_000;

class ProviderTimeoutError extends Error {
  constructor(providerId: string, step: string) {
    super(`${providerId} did not answer the ${step} within ${PROVIDER_CALL_TIMEOUT_MS} ms`);
    this.name = 'ProviderTimeoutError';
  }
}

/**
 * Better Auth's provider fetches carry no timeout and take no signal, so the
 * wait is bounded here instead: past the deadline the sign-in fails.
 */
function withinDeadline<T>(providerId: string, step: string, work: () => Promise<T>): Promise<T> {
  return withDeadline(work(), PROVIDER_CALL_TIMEOUT_MS, () => {
    throw new ProviderTimeoutError(providerId, step);
  });
}

function logProviderProblem(event: string, providerId: string, error?: unknown): void {
  // The provider id and the error's type only: messages can quote tokens or codes.
  console.warn(
    JSON.stringify({
      level: 'warn',
      event,
      provider: providerId,
      ...(error instanceof Error ? { error: error.name } : {}),
    }),
  );
}

class StateProviderMismatchError extends Error {
  constructor() {
    super('the OAuth state was issued for another provider');
    this.name = 'StateProviderMismatchError';
  }
}

/** The provider a sign-in or link was started with, as recorded in its OAuth state. */
const STATE_PROVIDER_KEY = 'providerId';

/**
 * Better Auth's state proves that this browser started a sign-in, not with
 * which provider. Without this check a state issued for Google completes
 * /callback/github: a malicious or compromised provider could replay a code
 * (and receive Google's PKCE verifier) under another provider's callback.
 * The provider is recorded server-side in the state when the sign-in starts
 * and compared before the code is sent anywhere.
 */
async function assertStateIsFor(provider: OAuthProvider): Promise<void> {
  const state = await getOAuthState();
  if (state?.serverContext?.[STATE_PROVIDER_KEY] !== provider.id) {
    logProviderProblem('oauth_state_provider_mismatch', provider.id);
    throw new StateProviderMismatchError();
  }
}

function guardProvider(provider: OAuthProvider): OAuthProvider {
  const refresh = provider.refreshAccessToken;
  return {
    ...provider,
    // A throw here is caught by Better Auth and becomes ?error=invalid_code.
    validateAuthorizationCode: async (data) => {
      await assertStateIsFor(provider);
      return withinDeadline(provider.id, 'code exchange', () => provider.validateAuthorizationCode(data));
    },

    // Better Auth lets a throw from getUserInfo escape as a 500; null makes it
    // redirect with ?error=unable_to_get_user_info instead.
    getUserInfo: async (tokens) => {
      try {
        return await withinDeadline(provider.id, 'user lookup', async () => {
          if (!(await idTokenIsAuthentic(provider, tokens))) {
            logProviderProblem('oauth_id_token_rejected', provider.id);
            return null;
          }
          return provider.getUserInfo(tokens);
        });
      } catch (error) {
        logProviderProblem('oauth_user_lookup_failed', provider.id, error);
        return null;
      }
    },

    refreshAccessToken:
      refresh &&
      ((refreshToken, context) => withinDeadline(provider.id, 'token refresh', () => refresh(refreshToken, context))),
  };
}

/**
 * In the code flow Better Auth reads the id_token's claims (Google's email and
 * email_verified) without checking its signature, as OpenID Connect permits for
 * a token received straight from the token endpoint over TLS. We check it
 * anyway against the provider's published keys, issuer, audience (our client
 * id) and age, with the same verifier Better Auth uses for client-sent
 * id_tokens: a misbehaving or impersonated token endpoint cannot choose who
 * signs in. Providers without an id_token (GitHub, Discord) pass through.
 * (verifyProviderIdToken refuses every token of a provider configured with
 * `disableIdTokenSignIn`; providers.ts never sets it.)
 */
async function idTokenIsAuthentic(
  provider: OAuthProvider,
  tokens: OAuth2Tokens & { expectedIdTokenNonce?: string },
): Promise<boolean> {
  if (!tokens.idToken || !provider.idToken) return true;
  return verifyProviderIdToken(provider, tokens.idToken, tokens.expectedIdTokenNonce);
}

/** Paths that start a provider redirect and so generate an OAuth state. */
const STATE_ISSUING_PATHS = new Set(['/sign-in/social', '/link-social']);

/**
 * Bounds every provider call, verifies id_tokens and binds each OAuth state
 * to its provider; see the functions above.
 */
export function providerCallGuard() {
  return {
    id: 'provider-call-guard',
    init(context) {
      return { context: { socialProviders: context.socialProviders.map(guardProvider) } };
    },
    hooks: {
      before: [
        {
          matcher: (context) => STATE_ISSUING_PATHS.has(context.path ?? ''),
          handler: createAuthMiddleware(async (ctx) => {
            const provider = (ctx.body as { provider?: unknown } | undefined)?.provider;
            if (typeof provider === 'string') await addOAuthServerContext({ [STATE_PROVIDER_KEY]: provider });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
