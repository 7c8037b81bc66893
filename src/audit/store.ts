import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import type { AnyDatabase } from '../db/any-database';
import { auditEvent } from '../db/schema';
import { type AuditEvent, type AuditEventType, NO_REQUEST, type RequestFacts } from './events';

// The audit_event table: append, read newest first, prune by age. Every
// function is one statement, on any Drizzle database (the Worker's pool, a
// transaction, node-postgres in scripts).

type AuditRow = typeof auditEvent.$inferInsert;

function toRow(event: AuditEvent, facts: RequestFacts): AuditRow {
  return {
    type: event.type,
    userId: event.userId,
    actorType: event.actor.type,
    actorId: event.actor.type === 'admin' ? event.actor.id : event.actor.type === 'user' ? event.userId : null,
    method: event.method ?? null,
    reason: event.reason ?? null,
    network: facts.network,
    userAgent: facts.userAgent,
    requestId: facts.requestId,
    detail: event.detail ?? null,
  };
}

/** Appends events, in one statement. */
export async function insertAuditEvents(
  db: AnyDatabase,
  events: readonly AuditEvent[],
  facts: RequestFacts = NO_REQUEST,
): Promise<void> {
  if (events.length === 0) return;
  await db.insert(auditEvent).values(events.map((event) => toRow(event, facts)));
}

/**
 * Appends an event about the account that has this address, in one statement
 * (insert ... select): nothing when no account has it, so an address without
 * an account leaves no trace.
 */
export async function insertAuditEventForEmail(
  db: AnyDatabase,
  email: string,
  event: Omit<AuditEvent, 'userId'>,
  facts: RequestFacts = NO_REQUEST,
): Promise<void> {
  const row = toRow({ ...event, userId: null }, facts);
  // The actor of a `user` event is the user found; anyone else is named.
  const actorId = event.actor.type === 'user' ? sql`"user"."id"` : sql`${row.actorId}`;
  const detail = row.detail ? sql`${JSON.stringify(row.detail)}::jsonb` : sql`null`;
  await db.execute(sql`
    insert into "audit_event"
      ("type", "user_id", "actor_type", "actor_id", "method", "reason", "network", "user_agent", "request_id", "detail")
    select ${row.type}, "user"."id", ${row.actorType}, ${actorId}, ${row.method}, ${row.reason},
      ${row.network}, ${row.userAgent}, ${row.requestId}, ${detail}
    from "user" where "user"."email" = ${email}`);
}

export interface AuditQuery {
  userId?: string;
  type?: AuditEventType;
  /** An event id: only events written before it (the paging cursor). */
  before?: number;
  limit: number;
}

export type StoredAuditEvent = typeof auditEvent.$inferSelect;

/** Newest first; `nextCursor` is the `before` of the next page, null on the last. */
export async function readAuditEvents(
  db: AnyDatabase,
  query: AuditQuery,
): Promise<{ events: StoredAuditEvent[]; nextCursor: string | null }> {
  const conditions: SQL[] = [];
  if (query.userId !== undefined) conditions.push(eq(auditEvent.userId, query.userId));
  if (query.type !== undefined) conditions.push(eq(auditEvent.type, query.type));
  if (query.before !== undefined) conditions.push(lt(auditEvent.id, query.before));
  const rows = await db
    .select()
    .from(auditEvent)
    .where(and(...conditions))
    .orderBy(desc(auditEvent.id))
    .limit(query.limit + 1);
  const events = rows.slice(0, query.limit);
  const last = events.at(-1);
  return { events, nextCursor: rows.length > query.limit && last ? String(last.id) : null };
}

/** Deletes events older than the retention window; answers how many went. */
export async function pruneAuditEvents(db: AnyDatabase, now: Date, retentionDays: number): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000);
  const result = await db.delete(auditEvent).where(lt(auditEvent.createdAt, cutoff));
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}
