import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { constantTimeEqual, newSecret, postgresAddress } from './ws-proxy.ts';

// Neon's HTTP query protocol (what the Neon driver's neon() speaks) in front of
// a TCP Postgres, for `npm run dev`, the tests and the benchmark: one POST per
// statement, answered from pooled connections, so a single statement costs
// one round trip as it does against Neon.
//
// POST /sql with headers Neon-Connection-String, Neon-Raw-Text-Output: true
// and Neon-Array-Mode: true, body { query, params }. The answer is
// { command, rowCount, rows, fields, rowAsArray } with every value as
// Postgres's text (the driver parses it with the statement's type parsers).
// A statement's error is 400 with the server's fields (message, code, ...);
// a database that cannot be reached, refuses the connection or drops it is
// 503, as Neon's proxy answers a failure that is not the statement's.

export interface SqlOverHttp {
  /** host:port/secret, the value for DATABASE_HTTP_PROXY. It holds this run's secret: never log it. */
  address: string;
  /** host:port only, for logs. */
  listening: string;
  stop: () => Promise<void>;
}

/** The fields of a Postgres error the driver copies onto its NeonDbError. */
const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

/** Largest body accepted: statements and their parameters, never bulk data. */
const MAX_BODY_BYTES = 1024 * 1024;
/** As the Worker's own bounds (src/db/client.ts): a dead database fails a request, it does not hang it. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Pools kept, one per connection string: the configured database and, in tests, its fault proxies. */
const MAX_POOLS = 64;

// Every value stays Postgres's text: the driver in the Worker parses it, as
// it parses Neon's raw text output.
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

// Severities with which the server ends the session: not the statement's fault.
const SESSION_ENDING = new Set(['FATAL', 'PANIC']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Refusal(413, 'body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function parseStatement(body: string): { query: string; params: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Refusal(400, 'body is not JSON');
  }
  const { query, params } = (parsed ?? {}) as { query?: unknown; params?: unknown };
  // Batches (the driver's sql.transaction) are not served: the Worker runs
  // its transactions over WebSockets.
  if (typeof query !== 'string') throw new Refusal(400, 'expected { query, params }');
  if (params !== undefined && !Array.isArray(params)) throw new Refusal(400, 'params must be an array');
  return { query, params: params ?? [] };
}

/** Where a statement's error and where a failure of the database goes. */
function isStatementError(error: unknown): error is pg.DatabaseError {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !SESSION_ENDING.has(typeof severity === 'string' ? severity : '')
  );
}

function errorBody(error: pg.DatabaseError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: error.message };
  for (const field of ERROR_FIELDS) if (error[field] !== undefined) body[field] = error[field];
  return body;
}

/**
 * Serves Neon's HTTP query protocol on 127.0.0.1, guarded as the WebSocket
 * proxy is (scripts/lib/ws-proxy.ts): a request with an Origin header (a page
 * in a browser) is refused, so is one whose path is not `/<secret>/sql`, and
 * it connects only to the given Postgres addresses, so it is never an open
 * relay.
 */
export async function startSqlOverHttp(options: { targets: string[]; port?: number }): Promise<SqlOverHttp> {
  const allowed = new Set(options.targets);
  const secret = newSecret();
  const expectedPath = `/${secret}/sql`;
  const pools = new Map<string, pg.Pool>();

  function poolFor(connectionString: string): pg.Pool {
    let pool = pools.get(connectionString);
    if (!pool) {
      if (pools.size >= MAX_POOLS) throw new Refusal(503, 'too many databases');
      pool = new pg.Pool({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 10 });
      // An idle connection the server drops emits 'error' on the pool.
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.headers.origin !== undefined) throw new Refusal(403, 'browser origins are refused');
    const path = new URL(request.url ?? '/', 'http://endpoint').pathname;
    if (!constantTimeEqual(path, expectedPath)) throw new Refusal(403, 'wrong or missing secret');
    if (request.method !== 'POST') throw new Refusal(405, 'POST only');
    const connectionString = request.headers['neon-connection-string'];
    if (typeof connectionString !== 'string') throw new Refusal(400, 'Neon-Connection-String is missing');
    let address: string;
    try {
      address = postgresAddress(connectionString);
    } catch {
      throw new Refusal(400, 'Neon-Connection-String is not a URL');
    }
    if (!allowed.has(address)) throw new Refusal(403, 'address not allowed');
    if (request.headers['neon-raw-text-output'] !== 'true' || request.headers['neon-array-mode'] !== 'true') {
      throw new Refusal(400, 'only raw text output in array mode is served');
    }
    const { query, params } = parseStatement(await readBody(request));

    let client: pg.PoolClient;
    try {
      client = await poolFor(connectionString).connect();
    } catch (error) {
      // Refused at startup, unreachable or timed out: the database, not the statement.
      const code = (error as { code?: unknown }).code;
      return answer(response, 503, { message: 'could not connect to the database', code });
    }
    // A connection that dies under a query errors on the client, which the
    // pool watches only while idle; the query's own rejection answers it.
    const ignore = () => {};
    client.on('error', ignore);
    let failed: unknown;
    try {
      const result = await client.query({ text: query, values: params, rowMode: 'array', types: RAW_TEXT });
      return answer(response, 200, {
        command: result.command,
        rowCount: result.rowCount,
        rows: result.rows,
        fields: result.fields.map((field) => ({
          name: field.name,
          tableID: field.tableID,
          columnID: field.columnID,
          dataTypeID: field.dataTypeID,
          dataTypeSize: field.dataTypeSize,
          dataTypeModifier: field.dataTypeModifier,
          format: 'text',
        })),
        rowAsArray: true,
      });
    } catch (error) {
      if (isStatementError(error)) return answer(response, 400, errorBody(error));
      failed = error;
      const code = (error as { code?: unknown }).code;
      return answer(response, 503, { message: 'the database connection failed', code });
    } finally {
      client.off('error', ignore);
      // A connection that failed is not given to the next request.
      client.release(failed instanceof Error ? failed : undefined);
    }
  }

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof Refusal) return answer(response, error.status, { message: error.message });
      answer(response, 500, { message: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1');
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}/${secret}`,
    listening: `127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // PGlite's socket server never hangs up after Terminate, so an end()
      // can wait forever; what is left is dropped with the process.
      const ended = Promise.all([...pools.values()].map((pool) => pool.end().catch(() => {})));
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    },
  };
}
