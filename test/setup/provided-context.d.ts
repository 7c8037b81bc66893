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
  }
}
