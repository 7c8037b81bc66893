import type { BetterAuthPlugin } from 'better-auth';
import { APIError } from 'better-auth/api';

/**
 * With REQUIRE_EMAIL_VERIFICATION, a passkey signs in only a user whose email
 * is verified, as a password does (403 EMAIL_NOT_VERIFIED): the plugin itself
 * opens a session for any passkey's user, so one added while the setting was
 * off would get around it.
 */
export function passkeyNeedsVerifiedEmail(required: boolean) {
  return {
    id: 'passkey-verified-email',
    init: () => ({
      options: {
        databaseHooks: {
          session: {
            create: {
              before: async (data: { userId: string }, ctx: unknown) => {
                const endpoint = ctx as { path?: string; context?: { internalAdapter?: unknown } } | null;
                if (!required || endpoint?.path !== '/passkey/verify-authentication') return;
                const adapter = endpoint.context?.internalAdapter as {
                  findUserById: (id: string) => Promise<{ emailVerified?: boolean } | null>;
                };
                const user = await adapter.findUserById(data.userId);
                if (user && !user.emailVerified) {
                  throw APIError.from('FORBIDDEN', { code: 'EMAIL_NOT_VERIFIED', message: 'Email not verified' });
                }
              },
            },
          },
        },
      },
    }),
  } satisfies BetterAuthPlugin;
}
