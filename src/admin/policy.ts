// Who is an admin, and how long an admin's proof of identity counts for the
// changes that matter. A leaf module: Better Auth's options (src/auth.ts), the
// admin routes, the body schemas and `npm run admin:grant` all read it.

/** The role that makes a user an admin. Nobody has it until `npm run admin:grant` gives it. */
export const ADMIN_ROLE = 'admin';
/** Everyone else's role (Better Auth's default, also for users whose role is null). */
export const USER_ROLE = 'user';
/** The only roles set-role accepts. */
export const ROLES = [ADMIN_ROLE, USER_ROLE] as const;

/**
 * Changing a role, banning, unbanning and impersonating need a session
 * created (signed in, or password changed) at most this long ago. A stolen
 * admin cookie older than this can read, but cannot hand out admin rights,
 * lock people out or act as them; an admin at the keyboard signs in again.
 */
export const RECENT_SIGN_IN_MS = 15 * 60 * 1000;

/** An impersonated session ends on its own after this long (Better Auth's default, made explicit). */
export const IMPERSONATION_SESSION_SECONDS = 60 * 60;

/** Better Auth stores several roles as "a,b": an admin is anyone whose roles include ours. */
export function isAdmin(user: { role?: string | null }): boolean {
  return (user.role ?? USER_ROLE)
    .split(',')
    .map((role) => role.trim())
    .includes(ADMIN_ROLE);
}
