// `npm run admin:grant -- <email>`: makes the user with this address an admin.
// `npm run admin:grant -- --revoke <email>` makes them a plain user again.
//
// There is no default admin and no admin password in configuration: the first
// admin is granted here, by someone who can reach the database. Later admins
// can be made by an admin (POST /api/auth/admin/set-role) or here.
//
// The database is found as `npm run keys:rotate` finds it
// (scripts/lib/command-database.ts):
//   DATABASE_URL=postgres://... npm run admin:grant -- ada@example.com   production
//   npm run admin:grant -- ada@example.com          .dev.vars, else npm run dev's database
//
// The change takes effect on the user's next request (roles are read with the
// session, never cached); their sessions stay. It is audited as role_changed,
// by the system.
import { eq } from 'drizzle-orm';
import { ADMIN_ROLE, RECENT_SIGN_IN_MS, USER_ROLE } from '../src/admin/policy.ts';
import { SYSTEM_ACTOR } from '../src/audit/events.ts';
import { insertAuditEvents } from '../src/audit/store.ts';
import { user } from '../src/db/schema.ts';
import { commandConfiguration, openCommandDatabase } from './lib/command-database.ts';
import { log, redactedUrl } from './lib/local-config.ts';

const USAGE = 'Usage: npm run admin:grant -- <email>   or   npm run admin:grant -- --revoke <email>';

function fail(message: string): never {
  console.error(`[auth-worker] ${message}`);
  process.exit(1);
}

/** A refusal found with the database open: thrown, so that it is closed before the command exits. */
class Refusal extends Error {}

function parseArguments(): { email: string; role: string } {
  const args = process.argv.slice(2);
  const revoke = args[0] === '--revoke';
  const email = (revoke ? args[1] : args[0])?.trim().toLowerCase();
  if (!email || email.startsWith('-') || args.length !== (revoke ? 2 : 1)) fail(USAGE);
  return { email, role: revoke ? USER_ROLE : ADMIN_ROLE };
}

async function main(): Promise<void> {
  const { email, role } = parseArguments();
  const configuration = commandConfiguration();
  const database = await openCommandDatabase(configuration);
  try {
    log(`Database: ${redactedUrl(database.url)}`);
    const [found] = await database.db.select({ id: user.id, role: user.role }).from(user).where(eq(user.email, email));
    if (!found) throw new Refusal(`No user has the address ${email}. They sign up first; then run this again.`);
    if ((found.role ?? USER_ROLE) === role) {
      log(`${email} is already ${role === ADMIN_ROLE ? 'an admin' : 'not an admin'}; nothing changed.`);
      return;
    }
    await database.db.transaction(async (tx) => {
      await tx.update(user).set({ role, updatedAt: new Date() }).where(eq(user.id, found.id));
      await insertAuditEvents(tx, [
        {
          type: 'role_changed',
          userId: found.id,
          actor: SYSTEM_ACTOR,
          detail: { role, previousRole: found.role, via: 'npm run admin:grant' },
        },
      ]);
    });
    if (role === ADMIN_ROLE) {
      log(`${email} is an admin now (user ${found.id}).`);
      log(
        `Roles, bans and impersonation need a sign-in from the last ${RECENT_SIGN_IN_MS / 60_000} minutes: sign in again first.`,
      );
    } else {
      log(`${email} is no longer an admin (user ${found.id}); their next request has no admin rights.`);
    }
  } finally {
    await database.close();
  }
}

await main().catch((error: unknown) => {
  if (error instanceof Refusal) fail(error.message);
  throw error;
});
