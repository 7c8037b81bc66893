import { type CustomTypesConfig, NeonDbError, neon, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { DatabaseSettings } from '../config';
import { withDeadline } from '../deadline';
import { causeChain } from '../errors';
import * as schema from './schema';

// The only file that imports a database driver. A statement outside a
// transaction goes over Neon's HTTP query path (one round trip: no WebSocket,
// no startup, no authentication exchange); a transaction needs one session,
// so it goes over secure WebSockets, both with the driver's defaults in
// production. Local development and tests set DATABASE_WS_PROXY to a
// plain-WebSocket proxy and DATABASE_HTTP_PROXY to an HTTP endpoint in front
// of a TCP Postgres, each as host:port/secret: they admit only paths that
// start with their secret.

export type Database = NeonDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Database;
  /**
   * True once this pool failed to get a ready connection (refused, unreachable,
   * timed out) or a connection of it failed (see isDatabaseUnavailable). Better
   * Auth turns such failures into plain 500s or "no session"; this lets the
   * app answer 503 DATABASE_UNAVAILABLE instead.
   */
  failedToReachDatabase: () => boolean;
  /** Closes every connection; hand it to ctx.waitUntil once the response is ready. */
  close: () => Promise<void>;
}

/** How long a request waits for a connection (including Postgres startup) before it fails. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** How long a request waits for one query's answer before it fails. */
export const QUERY_TIMEOUT_MS = 5_000;
/**
 * How long a statement over HTTP may take in all: the endpoint connects (or
 * reuses a connection) and runs it within one request, so one bound covers
 * what the two above bound on a WebSocket, and a 503 comes as soon.
 */
export const HTTP_QUERY_TIMEOUT_MS = Math.max(CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS);

// Counts of real database work done by this isolate, read by tests and the
// benchmark to prove what the caches save. Two integer increments per query.
// `connections` are WebSocket sessions; `httpQueries` are statements sent over HTTP.
const counters = { connections: 0, queries: 0, httpQueries: 0 };

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

function useLocalHttpEndpoint(endpoint: string): void {
  // Process-wide in the driver, like wsProxy above: the same for every request of a deployment.
  neonConfig.fetchEndpoint = `http://${endpoint}/sql`;
}

/** A statement as pg-pool's query() takes it; Drizzle passes a config object. */
type QueryConfig = { text: string; values?: unknown[]; rowMode?: string; types?: CustomTypesConfig };

/**
 * Sends pool.query()'s statements over the HTTP query path. The driver's own
 * switch for this (neonConfig.poolQueryViaFetch) does not fit: it rebuilds the
 * connection string without its port (a local database or a fault proxy is
 * told apart by port), it takes no fetch options (so no deadline: an endpoint
 * that never answers would hang the request), and it turns itself off as soon
 * as the pool has a listener other than 'error' (ours count connections).
 */
function httpQueries(url: string) {
  const sql = neon(url, { fullResults: true, disableWarningInBrowsers: true });
  return async (config: string | QueryConfig, values?: unknown[]) => {
    const statement = typeof config === 'string' ? { text: config } : config;
    counters.httpQueries++;
    return await sql.query(statement.text, values ?? statement.values ?? [], {
      arrayMode: statement.rowMode === 'array',
      fullResults: true,
      // Drizzle's parsers (timestamps kept as text, as on a WebSocket).
      types: statement.types,
      fetchOptions: { signal: AbortSignal.timeout(HTTP_QUERY_TIMEOUT_MS) },
    });
  };
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
  await withDeadline(
    pool.end().catch(() => {}),
    CLOSE_TIMEOUT_MS,
    () => undefined,
  );
}

/**
 * Creates a connection pool for one request. Workers forbid sharing I/O
 * objects between requests, so the pool must not outlive the request.
 */
export function createDb(settings: DatabaseSettings): DatabaseHandle {
  if (settings.wsProxy) useLocalProxy(settings.wsProxy);
  if (settings.httpProxy) useLocalHttpEndpoint(settings.httpProxy);
  // A local Postgres has no HTTP path without the local endpoint: then
  // everything goes over the WebSocket proxy.
  const overHttp =
    settings.httpProxy !== undefined || settings.wsProxy === undefined ? httpQueries(settings.url) : null;

  const pool = new Pool({
    connectionString: settings.url,
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
  /** Records an error as the failure of a connection, not of a statement. */
  const connectionFailed = <E>(error: E): E => {
    if (error instanceof Object) connectionFailures.add(error);
    unavailable = true;
    return error;
  };
  const observed = <E>(error: E): E => {
    if (isDatabaseUnavailable(error)) unavailable = true;
    return error;
  };

  const BaseClient = pool.Client;
  pool.Client = class PhaseWatchingClient extends BaseClient {
    constructor(...args: ConstructorParameters<typeof BaseClient>) {
      super(...args);
      // The driver emits 'error' on a client only when its connection failed:
      // the socket errored or closed, or the server sent an error no query was
      // waiting for. Listening also keeps such an error, on a client pg-pool
      // no longer watches (one checked out for a transaction, or whose connect
      // already failed), from being thrown as uncaught.
      this.on('error', connectionFailed);
      // The connection is ready once the server sends its first ReadyForQuery.
      // The driver's own connect callback is not that moment in production:
      // with Neon it pipelines the startup (pipelineConnect) and reports the
      // connection ready before the server has answered, so a refusal at
      // startup arrives as the first query's error. Every server message
      // passes through 'message' before the driver hands it on.
      let serverReady = false;
      this.connection.on('message', (message: { name?: string; severity?: string }) => {
        if (message.name === 'readyForQuery') serverReady = true;
        // FATAL and PANIC end the session (shutdown, termination): not a
        // statement's fault, and the connection is gone either way. The
        // driver reads only the severity that lc_messages may translate; on
        // such a server the connection's end still reaches 'error' above.
        else if (message.name === 'error' && (!serverReady || SESSION_ENDING.has(message.severity ?? ''))) {
          connectionFailed(message);
        }
      });
    }
  };
  // pg-pool's query() goes through this.connect(callback), so wrapping both
  // sees every failure to get a ready connection (refused, unreachable, timed
  // out) and every failed pool query; clients handed out for transactions get
  // their query() watched too.
  const connect = pool.connect.bind(pool);
  pool.connect = ((callback?: (error: Error | undefined, ...rest: unknown[]) => void) => {
    if (!callback) {
      return connect().then(
        (client) => watchClient(client),
        (error: unknown) => Promise.reject(connectionFailed(error)),
      );
    }
    return connect((error: Error | undefined, ...rest: unknown[]) =>
      callback(error && connectionFailed(error), ...rest),
    );
  }) as typeof pool.connect;
  function watchClient<C extends { query: (...args: never[]) => unknown }>(client: C): C {
    const clientQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = clientQuery(...args);
      return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(observed(error))) : result;
    }) as C['query'];
    return client;
  }
  // Over HTTP each statement is a request of its own, each given the whole
  // bound: once one failed to reach the database this request's answer is a
  // 503, and the statements Better Auth still tries (it swallows some
  // failures) must not each wait the bound out again.
  const sendOverHttp = (send: NonNullable<typeof overHttp>, config: string | QueryConfig, values: unknown) =>
    unavailable
      ? Promise.reject(connectionFailed(new Error('Database unreachable earlier in this request')))
      : send(config, values as unknown[] | undefined);

  // pool.query() is what Drizzle uses outside a transaction (a transaction
  // takes a client with pool.connect()): a single statement, sent over HTTP.
  // A callback form, which nothing here uses, keeps the driver's own path.
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const [config, values] = args as [string | QueryConfig, unknown];
    const result =
      overHttp && args.length <= 2 && typeof config !== 'function' && (values === undefined || Array.isArray(values))
        ? sendOverHttp(overHttp, config, values)
        : query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(observed(error))) : result;
  }) as typeof pool.query;

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

// Errors that createDb's pools recorded as the failure of a connection rather
// than of a statement. Kept by identity, so the wrappers Drizzle and pg-pool
// put around an error (with it as their cause) are recognised too.
const connectionFailures = new WeakSet<object>();

// Error severities with which the server ends the session.
const SESSION_ENDING = new Set(['FATAL', 'PANIC']);

// The driver's own errors (they carry no SQLSTATE) for a connection that was
// ready and then stopped answering or had already failed; and, over HTTP, for
// an endpoint that could not be reached or did not answer in time (the fetch
// failed), or answered with a failure that is not a statement's (any status
// but 200 and 400: Neon's proxy answers 503 when it cannot connect).
const DRIVER_CONNECTION_FAILURE =
  /^(Query read timeout|Client has encountered a connection error|Client was closed|Error connecting to database|Server error \(HTTP status)/;

// Over HTTP there is no moment to tell a refused connection from a failed
// statement: the endpoint answers both with the server's error. These
// SQLSTATEs come only from connecting (connection exceptions, a refused role
// or password, a database that does not exist, too many connections, a
// server shutting down or starting up); no single statement of ours can get
// them. 55000 (ALLOW_CONNECTIONS false) is left out: statements get it too.
const CONNECTION_SQLSTATE = /^(08...|28...|3D000|53300|57P0[123])$/;

/** A statement refused for a duplicate key (SQLSTATE 23505), however deep a library wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (const cause of causeChain(error)) if ((cause as { code?: unknown }).code === '23505') return true;
  return false;
}

/**
 * True when an error means the database could not be reached or could not
 * serve the request (mapped to 503), as opposed to a failed statement or a
 * bug. Decided by when it happened, not by its code: anything before the
 * connection was ready (refused at startup with any SQLSTATE, unreachable,
 * timed out), or the connection failing or being ended by the server later.
 * A statement's error on a ready connection keeps its meaning.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const cause of causeChain(error)) {
    if (connectionFailures.has(cause)) return true;
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (cause instanceof NeonDbError && typeof code === 'string' && CONNECTION_SQLSTATE.test(code)) return true;
    // A server error that the pool did not record as a connection's is a statement's.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return false;
    if (typeof message === 'string' && DRIVER_CONNECTION_FAILURE.test(message)) return true;
  }
  return false;
}
