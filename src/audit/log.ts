import { type Database, isDatabaseUnavailable } from '../db/client';
import type { AuditEvent, RequestFacts } from './events';
import { insertAuditEventForEmail, insertAuditEvents } from './store';

// A request's audit events: recorded while the request runs, written once its
// answer is on the way, on the request's own connection, before the pool
// closes (src/request-context.ts). Nobody waits for the write, and a request
// that records one event (a sign-in, a failed sign-in) adds one statement;
// a request that records none (a session read, a token) adds nothing.
// Events are lost only if the database fails at that moment, and the loss is
// logged with the event types and the request id.

export interface AuditLog {
  record(event: AuditEvent): void;
  /** An event about the account with this address, if there is one (one statement, insert ... select). */
  recordForEmail(email: string, event: Omit<AuditEvent, 'userId'>): void;
  /** Takes back recorded events that turned out not to happen (a sign-in that still needs its code). */
  retract(matches: (event: AuditEvent) => boolean): void;
  /** Writes what was recorded. Never rejects: hand it to waitUntil, then close the pool. */
  flush(): Promise<void>;
}

export function createAuditLog(db: Database, facts: RequestFacts): AuditLog {
  const events: AuditEvent[] = [];
  const byEmail: Array<{ email: string; event: Omit<AuditEvent, 'userId'> }> = [];
  return {
    record: (event) => {
      events.push(event);
    },
    recordForEmail: (email, event) => {
      byEmail.push({ email, event });
    },
    retract: (matches) => {
      for (let index = events.length - 1; index >= 0; index--) {
        if (matches(events[index] as AuditEvent)) events.splice(index, 1);
      }
    },
    flush: async () => {
      const types = [...events, ...byEmail.map(({ event }) => event)].map(({ type }) => type);
      if (types.length === 0) return;
      try {
        await insertAuditEvents(db, events.splice(0), facts);
        for (const { email, event } of byEmail.splice(0)) await insertAuditEventForEmail(db, email, event, facts);
      } catch (error) {
        console.error(
          JSON.stringify({
            level: 'error',
            event: 'audit_events_lost',
            requestId: facts.requestId,
            types,
            cause: isDatabaseUnavailable(error) ? 'database_unavailable' : (error as Error)?.name,
          }),
        );
      }
    },
  };
}
