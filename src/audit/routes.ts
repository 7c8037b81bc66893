import { Hono } from 'hono';
import { requireAdmin } from '../admin/routes';
import { adminEventsQuery, myEventsQuery, validateQuery } from '../input';
import { RATE_LIMITS, rateLimit } from '../rate-limit';
import type { AppEnv } from '../request-context';
import { requireSignedIn } from '../sessions';
import type { AuditEventType } from './events';
import { readAuditEvents, type StoredAuditEvent } from './store';

// Reading the audit log: GET /api/me/events (the signed-in user's own) and
// GET /api/admin/events (anyone's, for admins), newest first, a page at a
// time: `nextCursor` is the `before` of the next page.

/** What a user sees of their own events: what happened, when, how and from where; not who else was involved. */
function forOwner(event: StoredAuditEvent) {
  return {
    id: String(event.id),
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    ...(event.method ? { method: event.method } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.network ? { network: event.network } : {}),
    ...(event.userAgent ? { userAgent: event.userAgent } : {}),
  };
}

/** What an admin sees: everything recorded, with the user and the actor. */
function forAdmin(event: StoredAuditEvent) {
  return {
    ...forOwner(event),
    userId: event.userId,
    actor:
      event.actorId && event.actorType !== 'system'
        ? { type: event.actorType, id: event.actorId }
        : { type: event.actorType },
    ...(event.requestId ? { requestId: event.requestId } : {}),
    ...(event.detail ? { detail: event.detail } : {}),
  };
}

const NO_STORE = { 'cache-control': 'no-store' };

export const eventRoutes = new Hono<AppEnv>();

eventRoutes.get('/api/me/events', validateQuery(myEventsQuery), rateLimit(RATE_LIMITS.events), async (c) => {
  const { user } = await requireSignedIn(c);
  const { before, limit } = c.var.query as { before?: number; limit: number };
  const page = await readAuditEvents(c.var.db, { userId: user.id, before, limit });
  return c.json({ events: page.events.map(forOwner), nextCursor: page.nextCursor }, 200, NO_STORE);
});

eventRoutes.get(
  '/api/admin/events',
  validateQuery(adminEventsQuery),
  rateLimit(RATE_LIMITS.admin),
  requireAdmin,
  async (c) => {
    const query = c.var.query as { userId?: string; type?: AuditEventType; before?: number; limit: number };
    const page = await readAuditEvents(c.var.db, query);
    return c.json({ events: page.events.map(forAdmin), nextCursor: page.nextCursor }, 200, NO_STORE);
  },
);
