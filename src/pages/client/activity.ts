// Security events as a list a person reads: the account page shows the
// user's own (GET /api/me/events), the admin page anyone's with who did it
// (GET /api/admin/events). Both page with "older" buttons.

import type { AuditEventType } from '../../audit/events';
import { type ApiError, type ApiResult, api } from './api';

export interface ActivityEvent {
  id: string;
  type: AuditEventType;
  createdAt: string;
  method?: string;
  reason?: string;
  network?: string;
  userAgent?: string;
  /** The admin view's fields. */
  userId?: string | null;
  actor?: { type: 'user' | 'admin' | 'system'; id?: string };
  detail?: Record<string, unknown>;
}

interface EventPage {
  events: ActivityEvent[];
  nextCursor: string | null;
}

/** "email and password", "GitHub": the page lists the names (src/pages/routes.tsx, from the providers' table). */
let methodNames: Record<string, string> = {};

function methodName(method: string | undefined): string {
  return (method && methodNames[method]) || method || 'an unknown method';
}

const via = (event: ActivityEvent) => (event.method ? ` with ${methodName(event.method)}` : '');

const REFUSALS: Record<string, string> = {
  invalid_password: 'wrong password',
  email_not_verified: 'email not verified yet',
  banned: 'the account is banned',
};

// Every event type has its sentence: the compiler checks the list is whole.
const WHAT: Record<AuditEventType, (event: ActivityEvent) => string> = {
  sign_up: (event) => `Account created${via(event)}`,
  sign_in: (event) => `Signed in${via(event)}`,
  sign_in_failed: (event) => `Sign-in refused${via(event)}: ${REFUSALS[event.reason ?? ''] ?? event.reason}`,
  sign_out: () => 'Signed out',
  password_changed: () => 'Password changed',
  password_reset_requested: () => 'Password reset link sent',
  password_reset: () => 'Password reset with the emailed link',
  email_verified: () => 'Email address verified',
  provider_linked: (event) => `Sign-in with ${methodName(event.method)} added`,
  provider_unlinked: (event) => `Sign-in with ${methodName(event.method)} removed`,
  two_factor_enabled: () => 'Two-factor authentication turned on',
  two_factor_disabled: () => 'Two-factor authentication turned off',
  passkey_added: () => 'Passkey added',
  passkey_removed: () => 'Passkey removed',
  session_revoked: () => 'A session was signed out',
  user_banned: () => 'Account banned',
  user_unbanned: (event) => (event.reason === 'ban_expired' ? 'Ban ended' : 'Ban lifted'),
  role_changed: (event) => `Role changed${typeof event.detail?.role === 'string' ? ` to ${event.detail.role}` : ''}`,
  impersonation_started: () => 'An admin opened a support session as this account',
  impersonation_stopped: () => 'The support session ended',
  rate_limited: () => 'Locked for a while after too many wrong passwords or codes',
  signing_key_rotated: () => 'A new signing key took over',
  signing_key_revoked: () => 'A signing key was revoked',
};

function who(event: ActivityEvent): string {
  if (!event.actor) return '';
  if (event.actor.type === 'system') return 'by the system';
  if (event.actor.type === 'admin') return `by admin ${event.actor.id}`;
  return 'by the user';
}

/** One event: what, when, from where (and, for admins, about whom and by whom). */
function eventItem(event: ActivityEvent, admin: boolean): HTMLLIElement {
  const item = document.createElement('li');
  item.tabIndex = -1;
  const what = document.createElement('span');
  what.className = 'event-what';
  what.textContent = (WHAT[event.type] ?? (() => event.type))(event);
  const when = document.createElement('time');
  when.dateTime = event.createdAt;
  when.textContent = new Date(event.createdAt).toLocaleString();
  const facts = [event.userAgent, event.network];
  if (admin) {
    const reason = event.detail?.banReason;
    if (typeof reason === 'string') facts.push(`reason: ${reason}`);
    const until = event.detail?.banExpires;
    if (typeof until === 'string') facts.push(`until ${new Date(until).toLocaleString()}`);
    if (event.userId) facts.push(`user ${event.userId}`);
    facts.push(who(event));
  }
  const where = document.createElement('span');
  where.className = 'event-facts';
  where.textContent = facts.filter(Boolean).join(' · ');
  item.append(what, ' ', when, document.createElement('br'), where);
  return item;
}

/**
 * Shows pages of events in `list`; `more` loads the next older page. `show`
 * starts over from an API path (its query without `before`).
 */
export function eventPager(
  list: HTMLElement,
  more: HTMLButtonElement,
  options: { admin: boolean; onError: (data: ApiError | null) => void },
) {
  let path = '';
  let cursor: string | null = null;
  methodNames = JSON.parse(list.dataset.methodNames ?? '{}') as Record<string, string>;

  async function load(): Promise<void> {
    const separator = path.includes('?') ? '&' : '?';
    const result: ApiResult<EventPage> = await api<EventPage>(
      'GET',
      cursor ? `${path}${separator}before=${encodeURIComponent(cursor)}` : path,
    );
    if (!result.ok) return options.onError(result.data);
    const first = !cursor;
    const items = result.data.events.map((event) => eventItem(event, options.admin));
    if (first && items.length === 0) {
      const empty = document.createElement('li');
      empty.textContent = 'No activity yet.';
      list.append(empty);
    }
    list.append(...items);
    cursor = result.data.nextCursor;
    more.hidden = !cursor;
    // After "older", the reader continues at the first new line.
    if (!first) items[0]?.focus();
  }

  more.addEventListener('click', () => void load());
  return {
    show(from: string): Promise<void> {
      path = from;
      cursor = null;
      list.textContent = '';
      return load();
    },
  };
}
