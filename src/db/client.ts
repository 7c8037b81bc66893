import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { AppConfig } from '../env';
import * as schema from './schema';

// The only file that imports a database driver. Production talks to Neon over
// secure WebSockets with the driver's defaults; local development and tests
// set DATABASE_WS_PROXY to a plain-WebSocket proxy in front of a TCP Postgres.

export type Database = NeonDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Database;
  /**
   * True once a connection or query of this pool failed because the database
   * could not be reached or could not serve. Better Auth turns such failures
   * into plain 500s; this lets the app answer 503 DATABASE_UNAVAILABLE instead.
   */
  failedToReachDatabase: () => boolean;
  /** Closes every connection; hand it to ctx.waitUntil once the response is ready. */
  close: () => Promise<void>;
}

/** How long a request waits for a connection (including Postgres startup) before it fails. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** How long a request waits for one query's answer before it fails. */
export const QUERY_TIMEOUT_MS = 5_000;

// Counts of real database work done by this isolate, read by tests and the
// benchmark to prove what the caches save. Two integer increments per query.
const counters = { connections: 0, queries: 0 };

export function databaseWork(): Readonly<typeof counters> {
  return { ...counters };
}

function useLocalProxy(proxy: string): void {
  // The driver's documented settings for a non-Neon Postgres behind a proxy.
  // These are process-wide in the driver; the value is the same for every
  // request of a deployment, so setting it again is a no-op.
  neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // Pipelining the startup only works with cleartext password auth.
  neonConfig.pipelineConnect = false;
}

/** How long closing a request's pool may take before it is left to the runtime. */
const CLOSE_TIMEOUT_MS = 1_000;

/**
 * Ends the pool. A pool whose connection failed rejects on end(), and one
 * whose socket died mid-transaction can wait forever for a goodbye that never
 * comes: either way nothing is left to close, and the runtime drops the
 * request's sockets when it ends.
 */
async function closePool(pool: Pool): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
  });
  await Promise.race([pool.end().catch(() => {}), timeout]);
  clearTimeout(timer);
}

/**
 * Creates a connection pool for one request. Workers forbid sharing I/O
 * objects between requests, so the pool must not outlive the request.
 */
export function createDb(config: AppConfig): DatabaseHandle {
  if (config.databaseWsProxy) useLocalProxy(config.databaseWsProxy);

  const pool = new Pool({
    connectionString: config.databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle client whose socket drops emits 'error' on the pool; without a
  // listener that is an unhandled error that kills the request.
  // Only a code or type is logged: driver messages can name hosts and users.
  pool.on('error', (error: { code?: string; constructor: { name: string } }) => {
    console.warn(
      JSON.stringify({ level: 'warn', event: 'db_client_error', code: error.code ?? error.constructor.name }),
    );
  });

  pool.on('connect', () => {
    counters.connections++;
  });

  let unavailable = false;
  const observe = (error: unknown) => {
    if (isDatabaseUnavailable(error)) unavailable = true;
  };
  // A client whose socket fails after pg-pool stopped listening to it (a
  // checked-out transaction client, or one whose connect already failed)
  // would throw its 'error' event as uncaught: every client listens.
  const BaseClient = pool.Client;
  pool.Client = class ListeningClient extends BaseClient {
    constructor(...args: ConstructorParameters<typeof BaseClient>) {
      super(...args);
      this.on('error', observe);
    }
  };
  // pg-pool's query() goes through this.connect(callback), so wrapping both
  // sees every connection failure and every failed pool query; clients handed
  // out for transactions get their query() watched too.
  const connect = pool.connect.bind(pool);
  pool.connect = ((callback?: (error: Error | undefined, ...rest: unknown[]) => void) => {
    if (!callback) {
      return connect().then(
        (client) => watchClient(client),
        (error: unknown) => Promise.reject(observed(error)),
      );
    }
    return connect((error: Error | undefined, ...rest: unknown[]) => callback(error && observed(error), ...rest));
  }) as typeof pool.connect;
  function watchClient<C extends { query: (...args: never[]) => unknown }>(client: C): C {
    const clientQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = clientQuery(...args);
      return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(observed(error))) : result;
    }) as C['query'];
    return client;
  }
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(observed(error))) : result;
  }) as typeof pool.query;
  function observed<E>(error: E): E {
    observe(error);
    return error;
  }

  return {
    failedToReachDatabase: () => unavailable,
    db: drizzle({
      client: pool,
      schema,
      logger: {
        logQuery: () => {
          counters.queries++;
        },
      },
    }),
    close: () => closePool(pool),
  };
}

// SQLSTATE classes that mean "the database cannot serve you now" rather than
// "your statement is wrong": connection exceptions, insufficient resources
// (too many connections), operator intervention (shutting down, starting up).
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0)/;
// What node-postgres says when the connection, not the statement, failed.
const TRANSPORT_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed)/;

/**
 * True when an error means the database could not be reached or could not
 * serve the request (mapped to 503), as opposed to a failed statement or a
 * bug: only a transport failure or a connection-class SQLSTATE counts.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error; cause instanceof Object; cause = (cause as { cause?: unknown }).cause) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
    // The WebSocket under the driver failed (workerd reports an ErrorEvent).
    if (typeof ErrorEvent !== 'undefined' && cause instanceof ErrorEvent) return true;
    if (typeof message === 'string' && TRANSPORT_FAILURE.test(message)) return true;
  }
  return false;
}
