import type { BetterAuthOptions, BetterAuthPlugin } from 'better-auth';
import { createAuthMiddleware, isAPIError } from 'better-auth/api';
import { type AuditActor, SYSTEM_ACTOR, USER_ACTOR } from './events';
import type { AuditLog } from './log';

// Which moment of Better Auth is which security event. Better Auth's database
// hooks see every row it creates or deletes, with the endpoint that did it;
// its endpoint hooks see each answer. Between them every event of a request
// that goes through Better Auth is recorded here, from data Better Auth has
// already read: none of this reads the database. The request's events are
// written after its answer (src/audit/log.ts). What Better Auth does not do
// is recorded where it happens: a reset's consequences (src/credentials.ts),
// account locks (src/rate-limit.ts), signing keys (src/jwt/key-store.ts).
//
// Created per request, like the Better Auth instance it belongs to: the
// little it remembers between hooks (the users created, the sign-in being
// attempted) is this request's.

/** The parts of Better Auth's endpoint context we read; null when called from the server without a request. */
type HookContext =
  | {
      path?: string;
      params?: Record<string, string | undefined>;
      body?: Record<string, unknown>;
      context: {
        session?: { session: { impersonatedBy?: string | null }; user: { id: string } } | null;
        returned?: unknown;
      };
    }
  | null
  | undefined;

/** The admin plugin's field on sessions, which Better Auth's own types do not know here. */
const impersonatorOf = (row: object) => (row as { impersonatedBy?: string | null }).impersonatedBy ?? undefined;

/** The sign-in method of a request that opens a session; undefined for one that is not a sign-in. */
function signInMethod(ctx: HookContext): string | undefined {
  switch (ctx?.path) {
    case '/sign-in/email':
    case '/sign-up/email':
      return 'email';
    case '/callback/:id':
      return ctx.params?.id;
    // Only a native app's id_token sign-in opens a session here; the browser
    // flow answers with the provider's URL.
    case '/sign-in/social':
      return typeof ctx.body?.provider === 'string' ? ctx.body.provider : undefined;
    // The code step of a password sign-in; a signed-in caller's code turns
    // two-factor on (its new session replaces the old one: no sign-in).
    case '/two-factor/verify-totp':
      return ctx.context.session ? undefined : 'email+totp';
    case '/two-factor/verify-backup-code':
      return ctx.context.session ? undefined : 'email+backup_code';
    case '/passkey/verify-authentication':
      return 'passkey';
    default:
      return undefined;
  }
}

/** The signed-in caller: the user, or the admin acting inside an impersonated session. */
function actorOf(ctx: HookContext): AuditActor {
  const impersonatedBy = ctx?.context.session?.session.impersonatedBy;
  return impersonatedBy ? { type: 'admin', id: impersonatedBy } : USER_ACTOR;
}

/** The admin calling an admin endpoint (src/admin/routes.ts checked the role). */
function adminOf(ctx: HookContext): AuditActor {
  const id = ctx?.context.session?.user.id;
  return id ? { type: 'admin', id } : SYSTEM_ACTOR;
}

/**
 * Better Auth's refusals of an email sign-in, as the reasons we record. A ban
 * is recorded where the admin plugin finds it (bannedUserMessage below), for
 * every sign-in method.
 */
const FAILED_SIGN_IN_REASONS: Record<string, string> = {
  INVALID_EMAIL_OR_PASSWORD: 'invalid_password',
  EMAIL_NOT_VERIFIED: 'email_not_verified',
};

/** Sessions ended one by one at the request of their user (from another session) or of an admin. */
const USER_REVOCATIONS = new Set(['/revoke-session', '/revoke-sessions', '/revoke-other-sessions']);
const ADMIN_REVOCATIONS = new Set(['/admin/revoke-user-session', '/admin/revoke-user-sessions']);

const RESET_LINK_PURPOSE = 'reset-password:';

export function auditTrail(audit: AuditLog) {
  /** Users created by this request: their first session is the sign-up, not a sign-in. */
  const createdUsers = new Set<string>();
  /** The sign-in this request attempts, for the ban check that may refuse it. */
  let attempt: { userId: string; method: string } | undefined;
  /** Set when Better Auth lifts a ban whose end has passed, during a sign-in. */
  let liftingExpiredBan = false;

  /** Endpoint answers that are events: each reads what the request sent. */
  const answered: Record<string, (ctx: NonNullable<HookContext>, ok: boolean) => void> = {
    '/sign-in/email': (ctx, ok) => {
      const { returned } = ctx.context;
      const reason = !ok && isAPIError(returned) ? FAILED_SIGN_IN_REASONS[String(returned.body?.code)] : undefined;
      const email = ctx.body?.email;
      if (reason && typeof email === 'string') {
        audit.recordForEmail(email, { type: 'sign_in_failed', actor: USER_ACTOR, method: 'email', reason });
      }
    },
    '/passkey/verify-registration': (ctx, ok) => {
      const userId = ctx.context.session?.user.id;
      const added = ctx.context.returned as { id?: unknown; name?: unknown } | undefined;
      if (!ok || !userId || typeof added?.id !== 'string') return;
      audit.record({
        type: 'passkey_added',
        userId,
        actor: actorOf(ctx),
        detail: { passkeyId: added.id, name: typeof added.name === 'string' ? added.name : null },
      });
    },
    '/passkey/delete-passkey': (ctx, ok) => {
      const userId = ctx.context.session?.user.id;
      if (ok && userId) {
        audit.record({ type: 'passkey_removed', userId, actor: actorOf(ctx), detail: { passkeyId: ctx.body?.id } });
      }
    },
    '/change-password': (ctx, ok) => {
      const userId = ctx.context.session?.user.id;
      if (ok && userId) audit.record({ type: 'password_changed', userId, actor: actorOf(ctx) });
    },
    '/admin/ban-user': (ctx, ok) => {
      if (!ok) return;
      const { userId, banReason, banExpiresIn } = ctx.body as {
        userId: string;
        banReason?: string;
        banExpiresIn?: number;
      };
      const banExpires = banExpiresIn ? new Date(Date.now() + banExpiresIn * 1000).toISOString() : null;
      audit.record({
        type: 'user_banned',
        userId,
        actor: adminOf(ctx),
        detail: { banReason: banReason ?? null, banExpires },
      });
    },
    '/admin/unban-user': (ctx, ok) => {
      if (ok) audit.record({ type: 'user_unbanned', userId: String(ctx.body?.userId), actor: adminOf(ctx) });
    },
    '/admin/set-role': (ctx, ok) => {
      if (!ok) return;
      const { userId, role } = ctx.body as { userId: string; role: string };
      audit.record({ type: 'role_changed', userId, actor: adminOf(ctx), detail: { role } });
    },
  };

  const databaseHooks: NonNullable<BetterAuthOptions['databaseHooks']> = {
    user: {
      create: {
        after: async (created, ctx) => {
          createdUsers.add(created.id);
          const method = signInMethod(ctx as HookContext);
          audit.record({ type: 'sign_up', userId: created.id, actor: USER_ACTOR, method });
        },
      },
      update: {
        before: async (changes, ctx) => {
          const path = (ctx as HookContext)?.path;
          if ((changes as { banned?: unknown }).banned === false && path !== '/admin/unban-user') {
            liftingExpiredBan = true;
          }
        },
        after: async (updated, ctx) => {
          const path = (ctx as HookContext)?.path;
          const twoFactorEnabled = (updated as { twoFactorEnabled?: boolean } | null)?.twoFactorEnabled;
          if (updated && path === '/two-factor/verify-totp' && twoFactorEnabled) {
            audit.record({ type: 'two_factor_enabled', userId: updated.id, actor: actorOf(ctx as HookContext) });
          } else if (updated && path === '/two-factor/disable' && twoFactorEnabled === false) {
            audit.record({ type: 'two_factor_disabled', userId: updated.id, actor: actorOf(ctx as HookContext) });
          }
          if (!liftingExpiredBan || !updated) return;
          liftingExpiredBan = false;
          audit.record({ type: 'user_unbanned', userId: updated.id, actor: SYSTEM_ACTOR, reason: 'ban_expired' });
        },
      },
    },
    session: {
      create: {
        // Runs before the admin plugin's ban check (plugins run in order).
        before: async (data, ctx) => {
          const method = signInMethod(ctx as HookContext);
          attempt = method ? { userId: data.userId, method } : undefined;
        },
        after: async (created, ctx) => {
          const impersonatedBy = impersonatorOf(created);
          if (impersonatedBy) {
            audit.record({
              type: 'impersonation_started',
              userId: created.userId,
              actor: { type: 'admin', id: impersonatedBy },
              detail: { sessionId: created.id },
            });
            return;
          }
          const method = signInMethod(ctx as HookContext);
          if (!method || createdUsers.has(created.userId)) return;
          audit.record({
            type: 'sign_in',
            userId: created.userId,
            actor: USER_ACTOR,
            method,
            detail: { sessionId: created.id },
          });
        },
      },
      delete: {
        after: async (deleted, ctx) => {
          const context = ctx as HookContext;
          const path = context?.path ?? '';
          const detail = { sessionId: deleted.id };
          const impersonatedBy = impersonatorOf(deleted);
          if (path === '/admin/stop-impersonating' && impersonatedBy) {
            const actor: AuditActor = { type: 'admin', id: impersonatedBy };
            audit.record({ type: 'impersonation_stopped', userId: deleted.userId, actor, detail });
          } else if (path === '/sign-in/email') {
            // The password was right and two-factor is on: Better Auth ends
            // the session it just opened and asks for a code. The sign-in is
            // the code's (email+totp), not this.
            audit.retract((event) => event.type === 'sign_in' && event.detail?.sessionId === deleted.id);
          } else if (path === '/sign-out') {
            const actor: AuditActor = impersonatedBy ? { type: 'admin', id: impersonatedBy } : USER_ACTOR;
            audit.record({ type: 'sign_out', userId: deleted.userId, actor, detail });
          } else if (USER_REVOCATIONS.has(path)) {
            audit.record({ type: 'session_revoked', userId: deleted.userId, actor: actorOf(context), detail });
          } else if (ADMIN_REVOCATIONS.has(path)) {
            audit.record({ type: 'session_revoked', userId: deleted.userId, actor: adminOf(context), detail });
          }
          // Everything else that ends sessions is its own event (a ban, a
          // password change or reset), or no event (an expired session
          // found by a read).
        },
      },
    },
    account: {
      create: {
        after: async (created) => {
          // A provider added to an existing user; at sign-up it is part of the sign-up.
          if (created.providerId === 'credential' || createdUsers.has(created.userId)) return;
          audit.record({
            type: 'provider_linked',
            userId: created.userId,
            actor: USER_ACTOR,
            method: created.providerId,
          });
        },
      },
      delete: {
        after: async (deleted, ctx) => {
          const context = ctx as HookContext;
          if (context?.path !== '/unlink-account') return;
          audit.record({
            type: 'provider_unlinked',
            userId: deleted.userId,
            actor: actorOf(context),
            method: deleted.providerId,
          });
        },
      },
    },
    verification: {
      create: {
        // A reset link's row holds the user id (Better Auth's `value`).
        after: async (created) => {
          if (!created.identifier.startsWith(RESET_LINK_PURPOSE)) return;
          audit.record({ type: 'password_reset_requested', userId: created.value, actor: USER_ACTOR });
        },
      },
    },
  };

  const plugin = {
    id: 'audit-trail',
    init: () => ({ options: { databaseHooks } }),
    hooks: {
      after: [
        {
          matcher: (context: { path?: string }) => Object.hasOwn(answered, context.path ?? ''),
          handler: createAuthMiddleware(async (ctx) => {
            const context = ctx as unknown as NonNullable<HookContext>;
            answered[ctx.path]?.(context, !isAPIError(ctx.context.returned));
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;

  return {
    plugin,
    /** The admin plugin's `bannedUserMessage`, called as it refuses a banned user's new session. */
    bannedUserMessage: (message: string) => async (user: { id: string }) => {
      if (attempt?.userId === user.id) {
        audit.record({
          type: 'sign_in_failed',
          userId: user.id,
          actor: USER_ACTOR,
          method: attempt.method,
          reason: 'banned',
        });
      }
      return message;
    },
    /** `emailVerification.afterEmailVerification`. */
    emailVerified: async (user: { id: string }) => {
      audit.record({ type: 'email_verified', userId: user.id, actor: USER_ACTOR });
    },
  };
}
