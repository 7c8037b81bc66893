import type { MiddlewareHandler } from 'hono';
import { requestFacts } from './audit/client';
import { type AuditLog, createAuditLog } from './audit/log';
import { type Auth, createAuth } from './auth';
import { type AppConfig, readConfig } from './config';
import { createDb, type Database } from './db/client';
import { keySourceFor } from './jwt/keys';
import { createMailer } from './mail/mailer';

// What a request carries through the app (Hono's context), next to the
// middleware that puts it there. Modules that read it import this type; this
// module imports none of them.

/** A session and its user, as Better Auth reads them (with the admin plugin's fields). */
export type SignedIn = NonNullable<Awaited<ReturnType<Auth['api']['getSession']>>>;

/** The Hono environment of this app: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set by hono/request-id, first thing. */
    requestId: string;
    /** The rest by withAuth, on routes that use the database. */
    config: AppConfig;
    /** The request's database, for our own queries beside Better Auth's (sessions, nonces). */
    db: Database;
    /** See DatabaseHandle.failedToReachDatabase. */
    failedToReachDatabase: () => boolean;
    auth: Auth;
    /** The request's security events, written after the answer (src/audit/log.ts). */
    audit: AuditLog;
    /** The validated JSON body, on routes that validate one (src/input.ts). */
    body: Record<string, unknown> | undefined;
    /** The validated query, on routes that validate one (src/input.ts). */
    query: Record<string, unknown> | undefined;
    /** The signed-in admin, on admin routes (src/admin/routes.ts). */
    admin: SignedIn;
    /**
     * Sends a request through this same app, in this request's isolate and
     * execution context (no network): how the pages' form posts reach the
     * /api/auth routes with all their checks (src/pages/api-call.ts).
     */
    subrequest: (request: Request) => Promise<Response>;
  };
}

/**
 * Creates the database pool, the audit log and Better Auth for this request;
 * once the response is on its way, writes the request's audit events and
 * closes the pool. Only routes that need the database mount it, so /health
 * never opens a connection.
 */
export const withAuth: MiddlewareHandler<AppEnv> = async function withAuth(c, next) {
  const config = readConfig(c.env);
  const { db, close, failedToReachDatabase } = createDb(config.database);
  c.set('config', config);
  c.set('db', db);
  c.set('failedToReachDatabase', failedToReachDatabase);
  const audit = createAuditLog(db, requestFacts(c.req.raw, c.var.requestId));
  c.set('audit', audit);
  const mailer = createMailer(config.mail);
  const sendEmail = (message: Parameters<typeof mailer.send>[0]) => c.executionCtx.waitUntil(mailer.send(message));
  c.set('auth', createAuth(config, db, keySourceFor(config, c.executionCtx), sendEmail, audit));
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(audit.flush().then(close));
  }
};
