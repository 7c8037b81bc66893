import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema';

/**
 * Any Drizzle Postgres database over our tables: the Worker's pool
 * (src/db/client.ts), a transaction, node-postgres in scripts. Code that
 * runs in both places (key rotation, the audit store) takes this; it imports
 * no driver and no Worker configuration.
 */
export type AnyDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;
