// Values the Node global setup (test/setup/database.ts) provides to the tests.
import 'vitest';
import type { FaultMode } from './fault-proxies.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseWsProxy: string;
    /** DATABASE_WS_PROXY values that make the database fail in one way each. */
    faultProxies: Record<FaultMode, string>;
    /** Proxies whose connection dies at query N (index N - 1), for atomicity tests. */
    dropAtQueryProxies: string[];
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
