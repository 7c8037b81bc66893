// The admin API (Better Auth's admin plugin at /api/auth/admin/*, behind our
// guard): who may call it, what a ban does at once, the recent sign-in that
// role and ban changes need, and reads that show session ids, never tokens.
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECENT_SIGN_IN_MS } from '../src/admin/policy';
import { AUTH_ROUTES, DISABLED_AUTH_PATHS } from '../src/auth-routes';
import { session, user as userTable } from '../src/db/schema';
import { MAX_PAGE_SIZE } from '../src/limits';
import { type FakeProviders, installFakeProviders } from './fakes/oauth-providers';
import {
  betterAuthFor,
  callWorker,
  cookiesFrom,
  type EnvOverrides,
  postJson,
  signUp,
  type TestUser,
  tokenFor,
  uniqueEmail,
  withDb,
} from './helpers';
import { APP_ORIGIN, providerUser, signInWith, storedIdentity } from './oauth-flow';

const IMPERSONATION_ON: EnvOverrides = { ADMIN_IMPERSONATION: 'true' };

/** A user made admin the way `npm run admin:grant` does it: the role in the database. */
async function signUpAdmin(): Promise<TestUser> {
  const admin = await signUp();
  await withDb((db) => db.update(userTable).set({ role: 'admin' }).where(eq(userTable.id, admin.id)));
  return admin;
}

/** The session behind a cookie, as its owner reads it; null once it ended. */
async function sessionOf(cookie: string) {
  const response = await callWorker('/api/auth/session', { headers: { cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    session: { id: string; impersonatedBy?: string | null };
    user: { id: string; role?: string };
  } | null;
}

async function sessionIdOf(cookie: string): Promise<string> {
  return (await sessionOf(cookie))?.session.id as string;
}

/** Moves a session's creation back in time: the clock the recent-sign-in rule reads. */
async function ageSession(cookie: string, ms: number): Promise<void> {
  const id = await sessionIdOf(cookie);
  await withDb((db) =>
    db
      .update(session)
      .set({ createdAt: new Date(Date.now() - ms) })
      .where(eq(session.id, id)),
  );
}

/**
 * The cookies a browser keeps after a response: the last Set-Cookie of each
 * name wins, and one set to expire is gone. Impersonation first clears the
 * session cookie, then sets the new one.
 */
function browserCookies(response: Response, before = ''): string {
  const jar = new Map(
    before
      .split('; ')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  for (const header of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = header.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute)) || value === '') jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

const adminPost = (path: string, body: unknown, admin: TestUser, overrides?: EnvOverrides) =>
  postJson(`/api/auth/admin${path}`, body, { cookie: admin.cookie }, overrides);
const adminGet = (pathAndQuery: string, admin: TestUser) =>
  callWorker(`/api/auth/admin${pathAndQuery}`, { headers: { cookie: admin.cookie } });

async function signIn(person: TestUser) {
  return postJson('/api/auth/sign-in/email', { email: person.email, password: person.password });
}

/** A valid call to each admin endpoint, so that only who calls decides the answer. */
function adminCalls(target: TestUser, sessionId: string) {
  return [
    { method: 'GET', path: '/admin/list-users?searchValue=example' },
    { method: 'GET', path: `/admin/get-user?id=${target.id}` },
    { method: 'POST', path: '/admin/list-user-sessions', body: { userId: target.id } },
    { method: 'POST', path: '/admin/revoke-user-session', body: { sessionId } },
    { method: 'POST', path: '/admin/revoke-user-sessions', body: { userId: target.id } },
    { method: 'POST', path: '/admin/ban-user', body: { userId: target.id, banReason: 'no' } },
    { method: 'POST', path: '/admin/unban-user', body: { userId: target.id } },
    { method: 'POST', path: '/admin/set-role', body: { userId: target.id, role: 'admin' } },
    { method: 'POST', path: '/admin/impersonate-user', body: { userId: target.id } },
  ] as const;
}

function call(request: { method: string; path: string; body?: unknown }, cookie?: string) {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  if (request.method === 'GET') return callWorker(`/api/auth${request.path}`, { headers }, IMPERSONATION_ON);
  return postJson(`/api/auth${request.path}`, request.body, headers, IMPERSONATION_ON);
}

describe('who may call the admin API', () => {
  it('answers 403 NOT_ADMIN to a signed-in user and 401 to nobody, on every admin endpoint', async () => {
    const target = await signUp();
    const targetSession = await sessionIdOf(target.cookie);
    const someone = await signUp();
    const calls = adminCalls(target, targetSession);
    // Every admin endpoint in the route table is in this list.
    const guarded = AUTH_ROUTES.filter(
      (route) => route.path.startsWith('/admin/') && route.path !== '/admin/stop-impersonating',
    );
    expect(calls.map(({ path }) => path.split('?')[0]).sort()).toEqual(guarded.map(({ path }) => path).sort());

    for (const request of calls) {
      const asUser = await call(request, someone.cookie);
      expect(asUser.status, request.path).toBe(403);
      expect(((await asUser.json()) as { code: string }).code).toBe('NOT_ADMIN');
      const asNobody = await call(request);
      expect(asNobody.status, request.path).toBe(401);
    }
    // Nothing happened to the target.
    expect((await sessionOf(target.cookie))?.user.role).toBe('user');
    expect((await signIn(target)).status).toBe(200);
  });

  it('serves every endpoint of Better Auth’s admin plugin through the guard, or not at all', () => {
    const auth = betterAuthFor();
    const adminPaths = (Object.values(auth.api) as Array<{ path?: string }>)
      .map((endpoint) => endpoint.path)
      .filter((path): path is string => Boolean(path?.startsWith('/admin/')));
    expect(adminPaths.length).toBeGreaterThanOrEqual(15);
    for (const path of adminPaths) {
      const served = AUTH_ROUTES.some((route) => route.path === path);
      const disabled = (DISABLED_AUTH_PATHS as readonly string[]).includes(path);
      expect(served || disabled, `${path} is neither in the route table nor disabled`).toBe(true);
    }
  });

  it.each(['/create-user', '/update-user', '/set-user-password', '/remove-user', '/has-permission'])(
    'keeps POST /api/auth/admin%s off, even for an admin',
    async (path) => {
      const admin = await signUpAdmin();
      const target = await signUp();
      const response = await adminPost(
        path,
        { userId: target.id, data: { role: 'admin' }, newPassword: 'x'.repeat(12) },
        admin,
      );
      expect(response.status).toBe(404);
      expect((await sessionOf(target.cookie))?.user.role).toBe('user');
    },
  );

  it('lets nobody set role or banned through sign-up or update-user', async () => {
    const email = uniqueEmail('climber');
    const signUpResponse = await postJson('/api/auth/sign-up/email', {
      email,
      password: 'a good long password',
      name: 'Climber',
      role: 'admin',
      banned: false,
    });
    expect(signUpResponse.status).toBe(200);
    const cookie = cookiesFrom(signUpResponse);
    expect((await sessionOf(cookie))?.user.role).toBe('user');

    const update = await postJson('/api/auth/update-user', { name: 'Still me', role: 'admin' }, { cookie });
    expect(update.status).toBe(200);
    const victim = await signUp();
    await postJson('/api/auth/update-user', { banned: true, userId: victim.id }, { cookie });

    expect((await sessionOf(cookie))?.user.role).toBe('user');
    expect((await callWorker('/api/auth/admin/list-users', { headers: { cookie } })).status).toBe(403);
    expect((await signIn(victim)).status).toBe(200);
  });
});

describe('a ban', () => {
  it('ends every session at once: the next session read is empty, the next token 401, sign-in 403', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const elsewhere = await signIn(target);
    const bearer = ((await elsewhere.json()) as { token: string }).token;
    await tokenFor(target);

    const ban = await adminPost('/ban-user', { userId: target.id, banReason: 'Spam' }, admin);
    expect(ban.status).toBe(200);
    expect(((await ban.json()) as { user: { banned: boolean } }).user.banned).toBe(true);

    expect(await sessionOf(target.cookie)).toBeNull();
    const bearerRead = await callWorker('/api/auth/session', { headers: { authorization: `Bearer ${bearer}` } });
    expect(await bearerRead.json()).toBeNull();
    expect((await callWorker('/api/auth/token', { headers: { cookie: target.cookie } })).status).toBe(401);
    expect((await callWorker('/api/auth/token', { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(401);
    const refused = await signIn(target);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'BANNED_USER', message: expect.stringContaining('banned') });
    expect(refused.headers.getSetCookie()).toEqual([]);

    expect((await adminPost('/unban-user', { userId: target.id }, admin)).status).toBe(200);
    expect((await signIn(target)).status).toBe(200);
  });

  describe('through a provider', () => {
    let providers: FakeProviders;
    beforeEach(async () => {
      providers = await installFakeProviders();
    });
    afterEach(() => providers.restore());

    it('refuses a banned user’s Google sign-in with ?error=BANNED_USER and no session', async () => {
      const env = { ...providers.env, TRUSTED_ORIGINS: APP_ORIGIN };
      const admin = await signUpAdmin();
      const person = providerUser();
      const first = await signInWith(providers, env, 'google', person);
      expect(first.cookie).toBeDefined();
      const [stored] = (await storedIdentity(person.email)).users;

      expect((await adminPost('/ban-user', { userId: stored?.id }, admin)).status).toBe(200);
      const again = await signInWith(providers, env, 'google', person);

      expect(again.error).toBe('BANNED_USER');
      expect(again.cookie).toBeUndefined();
      expect((await storedIdentity(person.email)).sessions).toEqual([]);
    });
  });

  it('with an end lifts itself once the end has passed', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const ban = await adminPost('/ban-user', { userId: target.id, banExpiresIn: 3600 }, admin);
    expect(ban.status).toBe(200);
    const { banExpires } = ((await ban.json()) as { user: { banExpires: string } }).user;
    expect(Math.abs(new Date(banExpires).getTime() - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect((await signIn(target)).status).toBe(403);

    // The clock the ban is read against: its end, moved into the past.
    await withDb((db) =>
      db
        .update(userTable)
        .set({ banExpires: new Date(Date.now() - 1000) })
        .where(eq(userTable.id, target.id)),
    );
    expect((await signIn(target)).status).toBe(200);
    const [row] = await withDb((db) => db.select().from(userTable).where(eq(userTable.id, target.id)));
    expect(row).toMatchObject({ banned: false, banReason: null, banExpires: null });
  });

  it('is not for oneself, and wants a reason and an end within bounds', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const self = await adminPost('/ban-user', { userId: admin.id }, admin);
    expect(self.status).toBe(400);
    for (const body of [
      { userId: target.id, banReason: '' },
      { userId: target.id, banReason: 'x'.repeat(501) },
      { userId: target.id, banExpiresIn: 0 },
      { userId: target.id, banExpiresIn: 1.5 },
      { userId: target.id, banExpiresIn: '3600' },
    ]) {
      const response = await adminPost('/ban-user', body, admin);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe('VALIDATION_ERROR');
    }
    expect((await signIn(target)).status).toBe(200);
  });
});

describe('changes that need a recent sign-in', () => {
  it.each([
    ['/ban-user', (id: string) => ({ userId: id })],
    ['/unban-user', (id: string) => ({ userId: id })],
    ['/set-role', (id: string) => ({ userId: id, role: 'admin' })],
    ['/impersonate-user', (id: string) => ({ userId: id })],
  ])('%s is refused on an admin session older than the limit; reads still work', async (path, body) => {
    const admin = await signUpAdmin();
    const target = await signUp();
    await ageSession(admin.cookie, RECENT_SIGN_IN_MS + 60_000);

    const refused = await adminPost(path, body(target.id), admin, IMPERSONATION_ON);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'SESSION_NOT_FRESH' });
    expect((await adminGet(`/get-user?id=${target.id}`, admin)).status).toBe(200);
    expect((await signIn(target)).status).toBe(200);
    expect((await sessionOf(target.cookie))?.user.role).toBe('user');

    // Signing in again is the re-authentication.
    const fresh = { ...admin, cookie: cookiesFrom(await signIn(admin)) };
    expect((await adminPost(path, body(target.id), fresh, IMPERSONATION_ON)).status).toBe(200);
  });

  it('accepts a session just inside the limit', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    await ageSession(admin.cookie, RECENT_SIGN_IN_MS - 60_000);
    expect((await adminPost('/ban-user', { userId: target.id }, admin)).status).toBe(200);
  });
});

describe('roles', () => {
  it('set-role makes an admin and takes it away; only our roles', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    expect((await adminGet('/list-users', target)).status).toBe(403);

    expect((await adminPost('/set-role', { userId: target.id, role: 'admin' }, admin)).status).toBe(200);
    expect((await adminGet('/list-users', target)).status).toBe(200);

    expect((await adminPost('/set-role', { userId: target.id, role: 'user' }, admin)).status).toBe(200);
    expect((await adminGet('/list-users', target)).status).toBe(403);

    for (const role of ['superuser', 'admin,user', ['admin'], '']) {
      const response = await adminPost('/set-role', { userId: target.id, role }, admin);
      expect(response.status, JSON.stringify(role)).toBe(400);
    }
    const missing = await adminPost('/set-role', { userId: 'no-such-user', role: 'admin' }, admin);
    expect(missing.status).toBe(404);
  });
});

describe('reading users and sessions', () => {
  it('lists and searches users with paging', async () => {
    const admin = await signUpAdmin();
    const tag = crypto.randomUUID().slice(0, 8);
    const emails: string[] = [];
    for (let index = 0; index < 3; index++) {
      const email = `paged-${tag}-${index}@example.com`;
      emails.push(email);
      await postJson('/api/auth/sign-up/email', { email, password: 'a good long password', name: `Paged ${index}` });
    }
    const page = async (query: string) => {
      const response = await adminGet(`/list-users?searchValue=${tag}&sortBy=email&${query}`, admin);
      expect(response.status).toBe(200);
      return (await response.json()) as { users: Array<{ email: string; role: string }>; total: number };
    };
    const first = await page('limit=2');
    expect(first.total).toBe(3);
    expect(first.users.map((found) => found.email)).toEqual(emails.slice(0, 2));
    const second = await page('limit=2&offset=2');
    expect(second.users.map((found) => found.email)).toEqual(emails.slice(2));
    expect(first.users[0]?.role).toBe('user');

    const admins = await adminGet(`/list-users?filterField=role&filterValue=admin&limit=${MAX_PAGE_SIZE}`, admin);
    const adminList = (await admins.json()) as { users: Array<{ id: string; role: string }> };
    expect(adminList.users.map((found) => found.id)).toContain(admin.id);
    expect(adminList.users.every((found) => found.role === 'admin')).toBe(true);

    for (const query of [
      `limit=${MAX_PAGE_SIZE + 1}`,
      'limit=0',
      'offset=-1',
      'sortBy=password',
      'filterField=email',
    ]) {
      expect((await adminGet(`/list-users?${query}`, admin)).status, query).toBe(400);
    }
  });

  it('gets a user with its sessions (ids, no tokens) and linked providers', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const second = await signIn(target);
    const secondToken = ((await second.json()) as { token: string }).token;

    const response = await adminGet(`/get-user?id=${target.id}`, admin);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(target.sessionToken);
    expect(text).not.toContain(secondToken);
    const found = JSON.parse(text) as {
      id: string;
      email: string;
      role: string;
      sessions: Array<Record<string, unknown>>;
      accounts: Array<{ providerId: string }>;
    };
    expect(found).toMatchObject({ id: target.id, email: target.email, role: 'user' });
    expect(found.sessions).toHaveLength(2);
    for (const listed of found.sessions) {
      expect(Object.keys(listed).sort()).toEqual(
        ['createdAt', 'expiresAt', 'id', 'impersonatedBy', 'ipAddress', 'updatedAt', 'userAgent'].sort(),
      );
    }
    expect(found.accounts.map((linked) => linked.providerId)).toEqual(['credential']);
    expect((await adminGet('/get-user?id=no-such-user', admin)).status).toBe(404);
  });

  it('lists a user’s sessions by id, revokes one by its id, then all of them', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const elsewhereCookie = cookiesFrom(await signIn(target));
    const thirdCookie = cookiesFrom(await signIn(target));

    const listed = await adminPost('/list-user-sessions', { userId: target.id }, admin);
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(target.sessionToken);
    const { sessions } = JSON.parse(text) as { sessions: Array<Record<string, unknown>> };
    expect(sessions).toHaveLength(3);
    for (const one of sessions) expect(one).not.toHaveProperty('token');

    const elsewhereId = await sessionIdOf(elsewhereCookie);
    expect((await adminPost('/revoke-user-session', { sessionId: elsewhereId }, admin)).status).toBe(200);
    expect(await sessionOf(elsewhereCookie)).toBeNull();
    expect(await sessionOf(target.cookie)).not.toBeNull();

    const unknown = await adminPost('/revoke-user-session', { sessionId: 'no-such-session' }, admin);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    // A token is not how sessions are named here.
    const byToken = await adminPost('/revoke-user-session', { sessionToken: target.sessionToken }, admin);
    expect(byToken.status).toBe(400);
    expect(await sessionOf(target.cookie)).not.toBeNull();

    expect((await adminPost('/revoke-user-sessions', { userId: target.id }, admin)).status).toBe(200);
    expect(await sessionOf(target.cookie)).toBeNull();
    expect(await sessionOf(thirdCookie)).toBeNull();
    expect(await sessionOf(admin.cookie)).not.toBeNull();
  });
});

describe('impersonation', () => {
  it('is off unless ADMIN_IMPERSONATION=true', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const response = await adminPost('/impersonate-user', { userId: target.id }, admin);
    expect(response.status).toBe(404);
    expect(await sessionOf(admin.cookie)).toMatchObject({ user: { id: admin.id } });
  });

  it('when on, opens a marked session as the user, with no token in the answer, and goes back', async () => {
    const admin = await signUpAdmin();
    const target = await signUp();
    const started = await adminPost('/impersonate-user', { userId: target.id }, admin, IMPERSONATION_ON);
    expect(started.status).toBe(200);
    const body = (await started.json()) as { session: Record<string, unknown>; user: { id: string } };
    expect(body.session).not.toHaveProperty('token');
    expect(started.headers.get('set-auth-token')).toBeNull();
    expect(body.user.id).toBe(target.id);

    // The browser's cookies now: the impersonated session, and the admin's kept aside.
    const cookie = browserCookies(started, admin.cookie);
    const read = await sessionOf(cookie);
    expect(read?.user.id).toBe(target.id);
    expect(read?.session.impersonatedBy).toBe(admin.id);
    const jwt = ((await (await callWorker('/api/auth/token', { headers: { cookie } })).json()) as { token: string })
      .token;
    expect(decodeJwt(jwt)).toMatchObject({ sub: target.id, act: { sub: admin.id } });
    // The user's own list does not show it (Better Auth's rule); the admin's view does.
    const own = await callWorker('/api/auth/list-sessions', { headers: { cookie: target.cookie } });
    expect(((await own.json()) as unknown[]).length).toBe(1);

    const stopped = await postJson('/api/auth/admin/stop-impersonating', {}, { cookie }, IMPERSONATION_ON);
    expect(stopped.status).toBe(200);
    const back = (await stopped.json()) as { session: Record<string, unknown>; user: { id: string } };
    expect(back.session).not.toHaveProperty('token');
    expect(back.user.id).toBe(admin.id);
    expect(await sessionOf(cookie)).toBeNull();
    const adminAgain = browserCookies(stopped, cookie);
    expect((await sessionOf(adminAgain))?.user.id).toBe(admin.id);
  });
});

describe('admin endpoints are rate limited', () => {
  it('per session, whatever the client address', async () => {
    const admin = await signUpAdmin();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 61; attempt++) {
      statuses.push((await adminGet(`/get-user?id=${admin.id}`, admin)).status);
    }
    expect(statuses.slice(0, 60)).toEqual(Array(60).fill(200));
    expect(statuses[60]).toBe(429);
  });
});
