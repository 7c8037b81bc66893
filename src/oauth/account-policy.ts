import type { BetterAuthOptions } from 'better-auth';
import { getOAuthState } from 'better-auth/api';

// Who may become, or join, an account through a provider sign-in. An email
// address is an account's identity here, so a provider sign-in may claim one
// only when that provider vouches, on this sign-in, that its user controls it.
// Better Auth asks this gate (its `user.validateUserInfo`) before it creates a
// user or joins a provider to an existing one; a refusal becomes the
// `?error=<code>` of the callback redirect (the login page explains each code).

type ValidateUserInfo = NonNullable<NonNullable<BetterAuthOptions['user']>['validateUserInfo']>;

/** The `?error=` codes this gate answers with; the pages show a sentence for each. */
export const ACCOUNT_POLICY_ERRORS = {
  /**
   * Someone signs in with Discord (or GitHub) under an address Discord never
   * verified. Creating the account would let them register the victim's
   * address first: the victim's sign-up is then refused, and anything she
   * later adds (a reset password, Google) lands in the attacker's account.
   */
  EMAIL_NOT_VERIFIED_BY_PROVIDER: 'email_not_verified_by_provider',
  /**
   * A provider sign-in would join an account that has a password. Whoever set
   * that password may not be the address's owner (anyone can sign up with any
   * address, and the owner may click the genuine verification link), and after
   * a join their session and password would keep working. The owner signs in
   * with the password, or resets it (which ends every other session), and then
   * links the provider from the account page (POST /api/auth/link-social).
   */
  ACCOUNT_HAS_PASSWORD: 'account_has_password',
} as const;

export const validateProviderUserInfo: ValidateUserInfo = async ({ user, source }, ctx) => {
  if (source.method !== 'oauth') return;

  if (source.action === 'create-user' && user.emailVerified !== true) {
    return {
      error: ACCOUNT_POLICY_ERRORS.EMAIL_NOT_VERIFIED_BY_PROVIDER,
      errorDescription: 'The provider has not verified this email address.',
    };
  }

  // An explicit link (POST /api/auth/link-social) is made by the signed-in
  // owner and carries `link` in its OAuth state; only implicit joins are checked.
  if (source.action === 'link-account' && !(await getOAuthState())?.link && typeof user.id === 'string') {
    const accounts = await ctx.context.internalAdapter.findAccounts(user.id);
    if (accounts.some((row) => row.providerId === 'credential')) {
      return {
        error: ACCOUNT_POLICY_ERRORS.ACCOUNT_HAS_PASSWORD,
        errorDescription: 'This email has an account with a password: sign in with it, then link the provider.',
      };
    }
  }
  return;
};
