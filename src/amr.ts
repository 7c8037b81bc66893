import type { BetterAuthPlugin } from 'better-auth';

// How the user proved who they are, as RFC 8176 Authentication Method
// Reference values: decided once, when a session is created, and stored on
// it (session.amr), so a token reads it with the session and costs no query.
//
//   pwd  a password                      (email sign-in, sign-up)
//   otp  a TOTP or backup code           (always after the password here)
//   hwk  a passkey bound to one device   (WebAuthn "singleDevice")
//   swk  a synced passkey                (WebAuthn "multiDevice": the key is copied by a password manager)
//   mfa  two factors: password and code, or a passkey with user verification (PIN, biometrics)
//   fed  a provider sign-in (Google, GitHub, ...). Not an RFC 8176 value: the
//        one Microsoft's identity platform uses for federated sign-in.

export type AmrValue = 'pwd' | 'otp' | 'hwk' | 'swk' | 'mfa' | 'fed';

/** What a passkey sign-in told us (the WebAuthn assertion, verified). */
export interface PasskeyProof {
  deviceType: string;
  userVerified: boolean;
}

/** The parts of Better Auth's endpoint context read here. */
type HookContext =
  | {
      path?: string;
      context?: { session?: { session?: { amr?: string | null } } | null };
    }
  | null
  | undefined;

/** The stored form: values separated by spaces, like an OAuth scope. */
function stored(values: AmrValue[]): string {
  return values.join(' ');
}

/** The `amr` claim of a token for a session's stored value; undefined (no claim) when nothing is known. */
export function amrClaim(value: unknown): AmrValue[] | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.split(' ').filter(Boolean) as AmrValue[];
}

/** The amr of a passkey sign-in. */
export function passkeyAmr(proof: PasskeyProof): AmrValue[] {
  const key: AmrValue = proof.deviceType === 'singleDevice' ? 'hwk' : 'swk';
  return proof.userVerified ? [key, 'mfa'] : [key];
}

/**
 * Stores `amr` on each new session. A session that replaces one of the same
 * user (a password change, two-factor turned on or off) keeps what the old
 * one proved: Better Auth copies the old row into the new one, `amr` with it.
 * An impersonated session gets none: the user proved nothing.
 */
export function sessionAmr() {
  let passkey: PasskeyProof | undefined;

  function amrOf(ctx: HookContext): string | undefined {
    switch (ctx?.path) {
      case '/sign-in/email':
      case '/sign-up/email':
        return stored(['pwd']);
      case '/callback/:id':
      case '/sign-in/social':
        return stored(['fed']);
      // Reached only by a sign-in: the password was checked, then the code.
      // Turning two-factor on replaces the session and copies its amr.
      case '/two-factor/verify-totp':
      case '/two-factor/verify-backup-code':
        return ctx.context?.session ? (ctx.context.session.session?.amr ?? undefined) : stored(['pwd', 'otp', 'mfa']);
      case '/passkey/verify-authentication':
        return passkey ? stored(passkeyAmr(passkey)) : undefined;
      default:
        // Any other session made for a signed-in user (a password change)
        // proves no more than the session that asked for it.
        return ctx?.context?.session?.session?.amr ?? undefined;
    }
  }

  const plugin = {
    id: 'session-amr',
    schema: {
      session: {
        fields: {
          // No default: a copied session keeps the old value, null included.
          amr: { type: 'string', required: false, input: false },
        },
      },
    },
    init: () => ({
      options: {
        databaseHooks: {
          session: {
            create: {
              before: async (data: Record<string, unknown>, ctx: unknown) => {
                if (Object.hasOwn(data, 'amr') || data.impersonatedBy) return;
                const amr = amrOf(ctx as HookContext);
                return amr ? { data: { ...data, amr } } : undefined;
              },
            },
          },
        },
      },
    }),
  } satisfies BetterAuthPlugin;

  return {
    plugin,
    /** The passkey plugin's `authentication.afterVerification`: called before it creates the session. */
    passkeyVerified: (proof: PasskeyProof) => {
      passkey = proof;
    },
  };
}
