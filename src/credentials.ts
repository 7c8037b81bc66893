import type { BetterAuthOptions, BetterAuthPlugin } from 'better-auth';
import { createAuthMiddleware, isAPIError } from 'better-auth/api';
import { and, eq, like, ne } from 'drizzle-orm';
import { SYSTEM_ACTOR, USER_ACTOR } from './audit/events';
import type { AuditLog } from './audit/log';
import type { Database } from './db/client';
import { account, user, verification } from './db/schema';
import { sha256Base64url } from './digest';

// What happens to credentials as an account changes: reset links die when a
// password changes or a newer link is asked for, provider links made before an
// address was proven die with a reset, short sessions stay short, and nothing
// replayable is kept at rest that we do not need.

/** Better Auth's verification identifier of a password-reset link: `reset-password:<token>`. */
const RESET_LINK_PURPOSE = 'reset-password:';

/**
 * Better Auth gives a "don't remember me" session this lifetime (24 hours) and
 * a remembered one 7 days; only remembered sessions are ever extended, so a
 * session created for at most this long is a short one for its whole life.
 */
const SHORT_SESSION_MS = 24 * 60 * 60 * 1000;

/**
 * `verification.storeIdentifier`: reset-link tokens and OAuth states are
 * stored as SHA-256 digests, so a read of the table (a backup, a leaked
 * replica) yields no working link. The purpose prefix (`reset-password:`)
 * stays readable so that a user's outstanding links can be found and voided.
 */
export async function hashVerificationIdentifier(identifier: string): Promise<string> {
  const purpose = identifier.match(/^[a-z][a-z-]*:/)?.[0] ?? '';
  const secret = identifier.slice(purpose.length);
  return purpose + (await sha256Base64url(secret));
}

/** Deletes every outstanding password-reset link of a user. */
function voidResetLinks(db: Database, userId: string) {
  return db
    .delete(verification)
    .where(and(like(verification.identifier, `${RESET_LINK_PURPOSE}%`), eq(verification.value, userId)));
}

/**
 * After a password reset: every other reset link of the user is void, and if
 * the address had never been proven, the reset link reaching its inbox proves
 * it now. Provider links made while it was unproven are removed: nothing on
 * record shows that whoever made them owns the address (an earlier build
 * let a provider that had not verified an address create its account).
 * Each of these is an audit event.
 */
export async function afterPasswordReset(
  db: Database,
  audit: AuditLog,
  resetUser: { id: string; emailVerified: boolean },
) {
  const userId = resetUser.id;
  audit.record({ type: 'password_reset', userId, actor: USER_ACTOR });
  await voidResetLinks(db, userId);
  if (resetUser.emailVerified) return;
  const unlinked = await db
    .delete(account)
    .where(and(eq(account.userId, userId), ne(account.providerId, 'credential')))
    .returning({ providerId: account.providerId });
  for (const { providerId } of unlinked) {
    audit.record({
      type: 'provider_unlinked',
      userId,
      actor: SYSTEM_ACTOR,
      method: providerId,
      reason: 'address_unproven',
    });
  }
  await db.update(user).set({ emailVerified: true, updatedAt: new Date() }).where(eq(user.id, userId));
  audit.record({ type: 'email_verified', userId, actor: USER_ACTOR, reason: 'password_reset' });
}

interface SessionTimes {
  createdAt: Date;
  expiresAt: Date;
}

function isShortSession(session: SessionTimes): boolean {
  return new Date(session.expiresAt).getTime() - new Date(session.createdAt).getTime() <= SHORT_SESSION_MS;
}

/** Better Auth's `databaseHooks` for the rules above that act on rows. */
export function credentialHooks(db: Database): NonNullable<BetterAuthOptions['databaseHooks']> {
  return {
    verification: {
      create: {
        // A new reset link voids the ones before it: only the latest email works.
        before: async (row) => {
          if (row.identifier.startsWith(RESET_LINK_PURPOSE)) await voidResetLinks(db, row.value);
        },
      },
    },
    account: {
      // The id_token proved who signed in, once, and we verified it then
      // (src/oauth/provider-calls.ts). Kept, it is a credential that others
      // may replay for its lifetime, and nothing here reads it again.
      create: { before: async (row) => ({ data: { ...row, idToken: null } }) },
      update: {
        before: async (changes) => ('idToken' in changes ? { data: { ...changes, idToken: null } } : undefined),
      },
    },
    session: {
      update: {
        // Better Auth skips the refresh of a "don't remember me" session only
        // when the browser sends its marker cookie; a bearer read would stretch
        // it to 7 days. The session being refreshed is on the endpoint context.
        before: async (changes, ctx) => {
          const current = ctx?.context.session?.session as SessionTimes | undefined;
          if (!changes.expiresAt || !current || !isShortSession(current)) return;
          return { data: { ...changes, expiresAt: current.expiresAt } };
        },
      },
    },
  };
}

/** Endpoint-level rules: a password change voids the reset links that were out. */
export function credentialRules(db: Database) {
  return {
    id: 'credential-rules',
    hooks: {
      after: [
        {
          matcher: (context) => context.path === '/change-password',
          handler: createAuthMiddleware(async (ctx) => {
            const userId = ctx.context.session?.user.id;
            if (userId && !isAPIError(ctx.context.returned)) await voidResetLinks(db, userId);
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
