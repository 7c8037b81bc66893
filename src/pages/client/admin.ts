// The /admin page: find users, open one (sessions, sign-in methods, ban,
// role), and read the audit log. Everything goes through the admin API
// (docs/operations.md#admin-api), which checks the role itself: this page
// only decides what to show.

import { eventPager } from './activity';
import { type ApiError, api, readable } from './api';
import { $, byId, show, status, the } from './dom';

interface AdminUser {
  id: string;
  name: string;
  email: string;
  role?: string | null;
  banned?: boolean | null;
  banReason?: string | null;
  banExpires?: string | null;
  createdAt: string;
}

interface UserDetail extends AdminUser {
  sessions: Array<{
    id: string;
    createdAt: string;
    expiresAt: string;
    userAgent?: string | null;
    impersonatedBy?: string | null;
  }>;
  accounts: Array<{ id: string; providerId: string; createdAt: string }>;
}

/** Users per page of the list. */
const USERS_PAGE = 20;
/** Events per page of the log. */
const EVENTS_PAGE = 20;
const SIGN_IN_AGAIN = '/login?redirect=%2Fadmin';

function button(text: string, action: string, className = 'secondary small'): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = className;
  element.dataset.action = action;
  element.textContent = text;
  return element;
}

function badge(text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = 'badge';
  element.textContent = text;
  return element;
}

/** An error in `within`'s alert box, with the focus on it; a stale admin session gets a way to sign in again. */
function failure(within: HTMLElement, data: ApiError | null) {
  const box = the(within, '[data-form-error]');
  show(box, readable(data));
  if (data?.code === 'SESSION_NOT_FRESH') {
    const link = document.createElement('a');
    link.href = SIGN_IN_AGAIN;
    link.textContent = 'Sign in again';
    box.append(' ', link);
  }
  box.focus();
}

export function adminPage(root: HTMLElement) {
  const usersList = the(root, '[data-users]');
  const usersCount = the(root, '[data-user-count]');
  const previous = the(root, '[data-action="users-previous"]') as HTMLButtonElement;
  const next = the(root, '[data-action="users-next"]') as HTMLButtonElement;
  const panel = the(root, '[data-user-panel]');
  const search = byId<HTMLFormElement>('admin-search');
  const banForm = byId<HTMLFormElement>('admin-ban');
  const logForm = byId<HTMLFormElement>('admin-log');
  const log = eventPager(the(root, '[data-log]'), the(root, '[data-more-log]') as HTMLButtonElement, {
    admin: true,
    onError: (data) => failure(root, data),
  });
  let offset = 0;
  let opened: UserDetail | undefined;

  async function listUsers(): Promise<void> {
    const query = new URLSearchParams({ limit: String(USERS_PAGE), offset: String(offset) });
    query.set('sortBy', 'createdAt');
    query.set('sortDirection', 'desc');
    const term = (search.elements.namedItem('search') as HTMLInputElement).value.trim();
    if (term) {
      query.set('searchValue', term);
      query.set('searchField', (search.elements.namedItem('field') as HTMLSelectElement).value);
    }
    const result = await api<{ users: AdminUser[]; total: number }>('GET', `/api/auth/admin/list-users?${query}`);
    if (!result.ok) return failure(root, result.data);
    const { users, total } = result.data;
    usersList.textContent = '';
    for (const user of users) {
      const item = document.createElement('li');
      const open = button(user.email, 'open-user', 'link');
      open.dataset.openUser = user.id;
      item.append(open, ' ', user.name);
      if (user.role === 'admin') item.append(' ', badge('admin'));
      if (user.banned) item.append(' ', badge('banned'));
      usersList.append(item);
    }
    const last = Math.min(offset + users.length, total);
    usersCount.textContent = total ? `Users ${offset + 1}–${last} of ${total}` : 'No users match.';
    previous.hidden = offset === 0;
    next.hidden = last >= total;
  }

  async function openUser(id: string, focus: boolean): Promise<void> {
    const result = await api<UserDetail>('GET', `/api/auth/admin/get-user?id=${encodeURIComponent(id)}`);
    if (!result.ok) return failure(root, result.data);
    const user = result.data;
    opened = user;
    the(panel, '[data-user-title]').textContent = user.name || user.email;
    the(panel, '[data-user-email]').textContent = user.email;
    the(panel, '[data-user-id]').textContent = user.id;
    the(panel, '[data-user-role]').textContent = user.role ?? 'user';
    const banned = the(panel, '[data-user-ban]');
    banned.textContent = user.banned
      ? `Banned${user.banReason ? `: ${user.banReason}` : ''}${user.banExpires ? `, until ${new Date(user.banExpires).toLocaleString()}` : ', with no end'}`
      : 'Not banned';
    banForm.hidden = !!user.banned;
    the(panel, '[data-unban]').hidden = !user.banned;
    the(panel, '[data-action="toggle-role"]').textContent =
      user.role === 'admin' ? 'Make a regular user' : 'Make an admin';

    const accounts = the(panel, '[data-user-accounts]');
    accounts.textContent = '';
    for (const linked of user.accounts) {
      const item = document.createElement('li');
      item.textContent = linked.providerId === 'credential' ? 'Password' : linked.providerId;
      accounts.append(item);
    }
    const sessions = the(panel, '[data-user-sessions]');
    sessions.textContent = '';
    for (const session of user.sessions) {
      const item = document.createElement('li');
      const when = new Date(session.createdAt).toLocaleString();
      const agent = session.userAgent ? ` · ${session.userAgent.slice(0, 60)}` : '';
      const support = session.impersonatedBy ? ` · support session by ${session.impersonatedBy}` : '';
      const revoke = button('Sign out', 'revoke-session');
      revoke.dataset.sessionId = session.id;
      revoke.setAttribute('aria-label', `Sign out the session from ${when}`);
      item.append(`Signed in ${when}${agent}${support} `, revoke);
      sessions.append(item);
    }
    if (user.sessions.length === 0) {
      const none = document.createElement('li');
      none.textContent = 'No active sessions.';
      sessions.append(none);
    }
    panel.hidden = false;
    if (focus) the(panel, '[data-user-title]').focus();
  }

  /** A change to the opened user, then the user read again. */
  async function change(path: string, body: unknown, done: string): Promise<void> {
    if (!opened) return;
    show($(panel, '[data-form-error]'), '');
    const result = await api('POST', path, body);
    if (!result.ok) return failure(panel, result.data);
    await openUser(opened.id, false);
    status(panel, done);
  }

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    void listUsers();
  });
  previous.addEventListener('click', () => {
    offset = Math.max(0, offset - USERS_PAGE);
    void listUsers();
  });
  next.addEventListener('click', () => {
    offset += USERS_PAGE;
    void listUsers();
  });
  banForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!opened) return;
    const reason = (banForm.elements.namedItem('reason') as HTMLInputElement).value.trim();
    const seconds = Number((banForm.elements.namedItem('duration') as HTMLSelectElement).value);
    const body = {
      userId: opened.id,
      ...(reason ? { banReason: reason } : {}),
      ...(seconds ? { banExpiresIn: seconds } : {}),
    };
    void change('/api/auth/admin/ban-user', body, 'Banned: every session of this user is signed out.').then(() =>
      banForm.reset(),
    );
  });
  logForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void showLog();
  });

  function showLog(): Promise<void> {
    const query = new URLSearchParams({ limit: String(EVENTS_PAGE) });
    const userId = (logForm.elements.namedItem('userId') as HTMLInputElement).value.trim();
    const type = (logForm.elements.namedItem('type') as HTMLSelectElement).value;
    if (userId) query.set('userId', userId);
    if (type) query.set('type', type);
    return log.show(`/api/admin/events?${query}`);
  }

  root.addEventListener('click', (event) => {
    const target = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    if (!target) return;
    const action = target.dataset.action;
    if (action === 'open-user' && target.dataset.openUser) void openUser(target.dataset.openUser, true);
    if (!opened) return;
    if (action === 'revoke-session') {
      void change(
        '/api/auth/admin/revoke-user-session',
        { sessionId: target.dataset.sessionId },
        'Session signed out.',
      );
    } else if (action === 'revoke-all') {
      void change('/api/auth/admin/revoke-user-sessions', { userId: opened.id }, 'Every session signed out.');
    } else if (action === 'unban') {
      void change('/api/auth/admin/unban-user', { userId: opened.id }, 'The ban is lifted.');
    } else if (action === 'toggle-role') {
      const role = opened.role === 'admin' ? 'user' : 'admin';
      void change('/api/auth/admin/set-role', { userId: opened.id, role }, `The role is ${role} now.`);
    } else if (action === 'user-events') {
      (logForm.elements.namedItem('userId') as HTMLInputElement).value = opened.id;
      (logForm.elements.namedItem('type') as HTMLSelectElement).value = '';
      void showLog().then(() => byId('log-heading').focus());
    }
  });

  api<{ user: { role?: string | null } } | null>('GET', '/api/auth/session').then((result) => {
    if (!result.ok) {
      root.hidden = false;
      return failure(root, result.data);
    }
    if (!result.data) return window.location.replace(SIGN_IN_AGAIN);
    root.hidden = false;
    if (result.data.user.role !== 'admin') {
      for (const section of root.querySelectorAll<HTMLElement>('section')) section.hidden = true;
      return failure(root, { code: 'NOT_ADMIN' });
    }
    void listUsers();
    void showLog();
  });
}
