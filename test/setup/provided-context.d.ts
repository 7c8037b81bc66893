// Values the Node global setup (test/setup/database.ts) provides to the tests.
import 'vitest';
import type { DatabaseFault } from './fault-proxies.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /**
     * The suite runs on embedded PGlite: one Postgres session shared by every
     * connection, so transactions that overlap in time can trip over each
     * other there (and only there); tests of such races run on PostgreSQL.
     */
    embeddedDatabase: boolean;
    databaseWsProxy: string;
    databaseHttpProxy: string;
    /** DATABASE_HTTP_PROXY values whose endpoint fails: nothing listens, or it accepts and never answers. */
    faultHttpProxies: Record<'nothing-listens' | 'never-answers', string>;
    /** DATABASE_URL values whose database fails in one way each (test/setup/fault-proxies.ts). */
    faultDatabaseUrls: Record<DatabaseFault, string>;
    /** DATABASE_URL values whose connection dies at query N (index N - 1), for atomicity tests. */
    dropAtQueryDatabaseUrls: string[];
    /**
     * A DATABASE_URL whose route a test can send to a fault and back:
     * `PUT <control>/route` with a fault's name, or 'database'.
     */
    switchableDatabase: { url: string; control: string };
    /**
     * DATABASE_URL values a PostgreSQL server refuses at connection time, one
     * per way (test/setup/refusing-databases.ts); null on PGlite, which cannot.
     */
    refusingDatabaseUrls: Record<
      'connections-not-allowed' | 'role-at-connection-limit' | 'database-dropped',
      string
    > | null;
  }
}
