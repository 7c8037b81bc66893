// Connection strings that a real PostgreSQL server refuses at connection time,
// each in its own way, for the database fault tests. Created on the server of
// TEST_DATABASE_URL with unique names and removed again in teardown. PGlite
// cannot provide them: it is one embedded session that ignores the database
// and role a client asks for.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Refusal = 'connections-not-allowed' | 'role-at-connection-limit' | 'database-dropped';

/** What the server answers for each, checked before any test relies on it. */
const EXPECTED_SQLSTATE: Record<Refusal, string> = {
  'connections-not-allowed': '55000', // object_not_in_prerequisite_state
  'role-at-connection-limit': '53300', // too_many_connections
  'database-dropped': '3D000', // invalid_catalog_name
};

function withDatabase(url: string, database: string): string {
  const copy = new URL(url);
  copy.pathname = `/${database}`;
  return copy.toString();
}

function withUser(url: string, user: string): string {
  const copy = new URL(url);
  copy.username = user;
  copy.password = '';
  return copy.toString();
}

async function refusalCode(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/**
 * `adminUrl` must belong to a role that may create databases and roles (the
 * postgres superuser of the machine's server, as in CI).
 */
export async function createRefusingDatabases(adminUrl: string) {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const closed = `auth_refusal_closed_${suffix}`;
  const dropped = `auth_refusal_dropped_${suffix}`;
  const limitedRole = `auth_refusal_role_${suffix}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${closed}`);
    await admin.query(`ALTER DATABASE ${closed} ALLOW_CONNECTIONS false`);
    await admin.query(`CREATE DATABASE ${dropped}`);
    await admin.query(`DROP DATABASE ${dropped}`);
    // Not a superuser: superusers are exempt from a role's connection limit.
    await admin.query(`CREATE ROLE ${limitedRole} LOGIN NOSUPERUSER CONNECTION LIMIT 0`);
  } finally {
    await admin.end();
  }

  const urls: Record<Refusal, string> = {
    'connections-not-allowed': withDatabase(adminUrl, closed),
    'role-at-connection-limit': withUser(adminUrl, limitedRole),
    'database-dropped': withDatabase(adminUrl, dropped),
  };

  const drop = async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP DATABASE IF EXISTS ${closed}`);
      await cleanup.query(`DROP ROLE IF EXISTS ${limitedRole}`);
    } finally {
      await cleanup.end();
    }
  };

  // A refusal for another reason (say, password authentication on this
  // server) would make the tests pass for the wrong reason.
  for (const [refusal, url] of Object.entries(urls) as Array<[Refusal, string]>) {
    const code = await refusalCode(url);
    if (code !== EXPECTED_SQLSTATE[refusal]) {
      await drop();
      throw new Error(
        `[tests] ${refusal}: expected the server to refuse with SQLSTATE ${EXPECTED_SQLSTATE[refusal]}, got ${code ?? 'a connection'}`,
      );
    }
  }

  return { urls, drop };
}
