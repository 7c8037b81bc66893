import type { BetterAuthOptions } from 'better-auth';
import type { SocialProviderList } from 'better-auth/social-providers';

// The sign-in providers this Worker offers. Each is Better Auth's own provider
// (authorization URL, token exchange, profile mapping); what we add is the
// configuration and the guard in provider-calls.ts. To offer another provider
// Better Auth supports: add an entry here, its two variables to
// .dev.vars.example (then `npm run types`), and a README row.

interface OAuthProviderEntry {
  /** Better Auth's provider id: the `:provider` in /sign-in/:provider and /callback/:provider. */
  id: SocialProviderList[number];
  /** For people: messages and docs. */
  name: string;
  /** `<envPrefix>_CLIENT_ID` and `<envPrefix>_CLIENT_SECRET` turn the provider on. */
  envPrefix: string;
  /** An OpenID provider: its SDKs give native apps an id_token (ID_TOKEN_SIGN_IN_PROVIDERS). */
  issuesIdTokens: boolean;
}

export const OAUTH_PROVIDERS = [
  { id: 'google', name: 'Google', envPrefix: 'GOOGLE', issuesIdTokens: true },
  { id: 'github', name: 'GitHub', envPrefix: 'GITHUB', issuesIdTokens: false },
  { id: 'discord', name: 'Discord', envPrefix: 'DISCORD', issuesIdTokens: false },
] as const satisfies readonly OAuthProviderEntry[];

export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number]['id'];

export interface OAuthCredentials {
  clientId: string;
  clientSecret: string;
}

/** The providers that are configured; an absent key means the provider is off. */
export type OAuthCredentialsByProvider = Partial<Record<OAuthProviderId, OAuthCredentials>>;

export function clientIdVariable(provider: OAuthProviderEntry): string {
  return `${provider.envPrefix}_CLIENT_ID`;
}

export function clientSecretVariable(provider: OAuthProviderEntry): string {
  return `${provider.envPrefix}_CLIENT_SECRET`;
}

export function isConfiguredProvider(
  credentials: OAuthCredentialsByProvider,
  providerId: string,
): providerId is OAuthProviderId {
  return Object.hasOwn(credentials, providerId);
}

/**
 * Better Auth's `socialProviders` option: only the configured providers exist
 * for it. `requireEmailVerification` is per provider in Better Auth, so
 * REQUIRE_EMAIL_VERIFICATION is applied to each: a provider sign-in of a user
 * whose address is unverified gets no session either.
 */
export function socialProvidersFor(
  credentials: OAuthCredentialsByProvider,
  options: { requireEmailVerification: boolean },
): NonNullable<BetterAuthOptions['socialProviders']> {
  const providers: NonNullable<BetterAuthOptions['socialProviders']> = {};
  for (const { id } of OAUTH_PROVIDERS) {
    const configured = credentials[id];
    if (configured) {
      providers[id] = {
        clientId: configured.clientId,
        clientSecret: configured.clientSecret,
        requireEmailVerification: options.requireEmailVerification,
      };
    }
  }
  return providers;
}
