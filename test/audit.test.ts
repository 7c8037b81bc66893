// The audit log: each event type written once, with the right actor, by the
// request that caused it; nothing written by the hot paths; the client's
// network and browser family, never its address; reading it back (the user's
// own, an admin's view of anyone's); append-only; retention on the cron.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { readConfig } from '../src/config';
import { databaseWork } from '../src/db/client';
import { account, auditEvent, user as userTable } from '../src/db/schema';
import worker from '../src/index';
import { forgetKeySnapshots } from '../src/jwt/key-cache';
import { keyState, readKeys, rotateSigningKeys, rotationSettings } from '../src/jwt/key-store';
import { RATE_LIMITS } from '../src/rate-limit';
import { tokenFromLatestEmail } from './fakes/email-api';
import type { FakeProviders } from './fakes/oauth-providers';
import {
  callWorker,
  cookiesFrom,
  type EnvOverrides,
  postJson,
  randomIp,
  signUp,
  type TestUser,
  tokenFor,
  uniqueEmail,
  withDb,
} from './helpers';
import { APP_ORIGIN, arriveAt, installAppProviders, providerUser, signInWith, storedIdentity } from './oauth-flow';

type Row = typeof auditEvent.$inferSelect;

/** Every event about a user, oldest first, as stored. */
const eventsOf = (userId: string): Promise<Row[]> =>
  withDb((db) => db.select().from(auditEvent).where(eq(auditEvent.userId, userId)).orderBy(asc(auditEvent.id)));

const typesOf = async (userId: string) => (await eventsOf(userId)).map((event) => event.type);

const totalEvents = () =>
  withDb(async (db) => (await db.select({ count: sql<number>`count(*)::int` }).from(auditEvent))[0]?.count ?? 0);

/** The single event of a type about a user; fails unless there is exactly one. */
async function onlyEvent(userId: string, type: string): Promise<Row> {
  const found = (await eventsOf(userId)).filter((event) => event.type === type);
  expect(found, `${type} events of ${userId}`).toHaveLength(1);
  return found[0] as Row;
}

async function signUpAdmin(): Promise<TestUser> {
  const admin = await signUp();
  await withDb((db) => db.update(userTable).set({ role: 'admin' }).where(eq(userTable.id, admin.id)));
  return admin;
}

const signIn = (person: TestUser, password = person.password, headers: HeadersInit = {}, overrides?: EnvOverrides) =>
  postJson('/api/auth/sign-in/email', { email: person.email, password }, headers, overrides);

async function sessionIdOf(cookie: string): Promise<string> {
  const response = await callWorker('/api/auth/session', { headers: { cookie } });
  return ((await response.json()) as { session: { id: string } }).session.id;
}

describe('each event is written once, with the right actor', () => {
  it('sign_up: one event, method email, by the user; no sign_in beside it', async () => {
    const person = await signUp();
    const [event, ...rest] = await eventsOf(person.id);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      type: 'sign_up',
      userId: person.id,
      actorType: 'user',
      actorId: person.id,
      method: 'email',
      reason: null,
    });
  });

  it('sign_in: method email, the session it opened', async () => {
    const person = await signUp();
    const response = await signIn(person);
    const sessionId = await sessionIdOf(cookiesFrom(response));
    expect(await onlyEvent(person.id, 'sign_in')).toMatchObject({
      actorType: 'user',
      actorId: person.id,
      method: 'email',
      detail: { sessionId },
    });
  });

  it('sign_in_failed: invalid_password for a known account; nothing at all for an unknown address', async () => {
    const person = await signUp();
    expect((await signIn(person, 'not the password')).status).toBe(401);
    expect(await onlyEvent(person.id, 'sign_in_failed')).toMatchObject({
      actorType: 'user',
      method: 'email',
      reason: 'invalid_password',
    });

    const before = await totalEvents();
    const stranger = { ...person, email: uniqueEmail('nobody') };
    expect((await signIn(stranger, 'whatever it is')).status).toBe(401);
    expect(await totalEvents()).toBe(before);
  });

  it('sign_in_failed: email_not_verified when verification is required', async () => {
    const strict = { REQUIRE_EMAIL_VERIFICATION: 'true' };
    const email = uniqueEmail('unverified');
    const password = 'a good long password';
    await postJson('/api/auth/sign-up/email', { email, password, name: 'Unverified' }, {}, strict);
    const refused = await postJson('/api/auth/sign-in/email', { email, password }, {}, strict);
    expect(refused.status).toBe(403);
    const [stored] = (await storedIdentity(email)).users;
    expect(await onlyEvent(stored?.id as string, 'sign_in_failed')).toMatchObject({ reason: 'email_not_verified' });
  });

  it('sign_out: the session it ended, by the user', async () => {
    const person = await signUp();
    const sessionId = await sessionIdOf(person.cookie);
    expect((await postJson('/api/auth/sign-out', {}, { cookie: person.cookie })).status).toBe(200);
    expect(await onlyEvent(person.id, 'sign_out')).toMatchObject({ actorType: 'user', detail: { sessionId } });
  });

  it('password_changed, without a session_revoked for the sessions it ended', async () => {
    const person = await signUp();
    await signIn(person);
    const changed = await postJson(
      '/api/auth/change-password',
      { currentPassword: person.password, newPassword: 'a brand new password' },
      { cookie: person.cookie },
    );
    expect(changed.status).toBe(200);
    expect(await onlyEvent(person.id, 'password_changed')).toMatchObject({ actorType: 'user', actorId: person.id });
    expect(await typesOf(person.id)).toEqual(['sign_up', 'sign_in', 'password_changed']);
  });

  it('password_reset_requested and password_reset; an unproven address is email_verified by the reset', async () => {
    const person = await signUp();
    expect((await postJson('/api/auth/request-password-reset', { email: person.email })).status).toBe(200);
    const token = tokenFromLatestEmail(person.email, '/reset-password');
    expect((await postJson('/api/auth/reset-password', { token, newPassword: 'reset to this one' })).status).toBe(200);

    expect(await typesOf(person.id)).toEqual([
      'sign_up',
      'password_reset_requested',
      'password_reset',
      'email_verified',
    ]);
    expect(await onlyEvent(person.id, 'email_verified')).toMatchObject({ actorType: 'user', reason: 'password_reset' });
    // An address without an account leaves no trace.
    const before = await totalEvents();
    await postJson('/api/auth/request-password-reset', { email: uniqueEmail('nobody') });
    expect(await totalEvents()).toBe(before);
  });

  it('email_verified: through the verification link', async () => {
    const person = await signUp();
    const token = tokenFromLatestEmail(person.email, '/verify-email');
    expect((await callWorker(`/api/auth/verify-email?token=${encodeURIComponent(token)}`)).status).toBe(200);
    expect(await onlyEvent(person.id, 'email_verified')).toMatchObject({ actorType: 'user', reason: null });
  });

  describe('providers', () => {
    let providers: FakeProviders;
    let oauthEnv: EnvOverrides;
    beforeEach(async () => {
      ({ providers: providers, env: oauthEnv } = await installAppProviders());
    });
    afterEach(() => providers.restore());

    it('sign_up and sign_in through a provider: the method is the provider', async () => {
      const person = providerUser();
      await signInWith(providers, oauthEnv, 'github', person);
      const [stored] = (await storedIdentity(person.email)).users;
      const userId = stored?.id as string;
      expect(await eventsOf(userId)).toMatchObject([{ type: 'sign_up', method: 'github', actorType: 'user' }]);

      await signInWith(providers, oauthEnv, 'github', person);
      expect(await onlyEvent(userId, 'sign_in')).toMatchObject({ method: 'github' });
    });

    it('provider_linked when a second provider joins, provider_unlinked when the user removes it', async () => {
      const person = providerUser();
      await signInWith(providers, oauthEnv, 'github', person);
      const joined = await signInWith(providers, oauthEnv, 'google', person);
      const [stored] = (await storedIdentity(person.email)).users;
      const userId = stored?.id as string;
      expect(await typesOf(userId)).toEqual(['sign_up', 'provider_linked', 'sign_in']);
      expect(await onlyEvent(userId, 'provider_linked')).toMatchObject({ method: 'google', actorType: 'user' });

      const [google] = await withDb((db) =>
        db
          .select()
          .from(account)
          .where(and(eq(account.providerId, 'google'), eq(account.userId, userId))),
      );
      const unlinked = await postJson(
        '/api/auth/unlink-account',
        { accountId: google?.id },
        { cookie: joined.cookie ?? '' },
        oauthEnv,
      );
      expect(unlinked.status).toBe(200);
      expect(await onlyEvent(userId, 'provider_unlinked')).toMatchObject({ method: 'google', actorType: 'user' });
    });

    it('provider_linked through link-social, by the signed-in user', async () => {
      const person = await signUp(oauthEnv);
      const started = await postJson(
        '/api/auth/link-social',
        { provider: 'google', callbackURL: `${APP_ORIGIN}/settings` },
        { cookie: person.cookie },
        oauthEnv,
      );
      const { url } = (await started.json()) as { url: string };
      const state = cookiesFrom(started);
      await arriveAt(
        providers.google.approve(url, providerUser({ email: person.email })),
        `${person.cookie}; ${state}`,
        oauthEnv,
      );
      expect(await onlyEvent(person.id, 'provider_linked')).toMatchObject({ method: 'google', actorType: 'user' });
      expect(await typesOf(person.id)).toEqual(['sign_up', 'provider_linked']);
    });

    it('sign_in_failed: banned, for a provider sign-in too', async () => {
      const admin = await signUpAdmin();
      const person = providerUser();
      await signInWith(providers, oauthEnv, 'google', person);
      const [stored] = (await storedIdentity(person.email)).users;
      const userId = stored?.id as string;
      await postJson('/api/auth/admin/ban-user', { userId }, { cookie: admin.cookie });
      expect((await signInWith(providers, oauthEnv, 'google', person)).error).toBe('BANNED_USER');
      expect(await onlyEvent(userId, 'sign_in_failed')).toMatchObject({ method: 'google', reason: 'banned' });
    });
  });

  it('provider_unlinked by the system when a reset removes links made before the address was proven', async () => {
    const email = uniqueEmail('legacy');
    const userId = `legacy-${crypto.randomUUID()}`;
    await withDb(async (db) => {
      await db.insert(userTable).values({ id: userId, name: 'Legacy', email, emailVerified: false });
      await db.insert(account).values({ id: crypto.randomUUID(), accountId: '42', providerId: 'discord', userId });
    });
    await postJson('/api/auth/request-password-reset', { email });
    const token = tokenFromLatestEmail(email, '/reset-password');
    await postJson('/api/auth/reset-password', { token, newPassword: 'the owner resets it' });
    expect(await onlyEvent(userId, 'provider_unlinked')).toMatchObject({
      actorType: 'system',
      actorId: null,
      method: 'discord',
      reason: 'address_unproven',
    });
  });

  it('session_revoked: by the user, from another session; by an admin, with the admin as actor', async () => {
    const person = await signUp();
    const other = cookiesFrom(await signIn(person));
    const otherId = await sessionIdOf(other);
    expect((await postJson('/api/auth/revoke-session', { id: otherId }, { cookie: person.cookie })).status).toBe(200);
    expect(await onlyEvent(person.id, 'session_revoked')).toMatchObject({
      actorType: 'user',
      actorId: person.id,
      detail: { sessionId: otherId },
    });

    const admin = await signUpAdmin();
    const firstId = await sessionIdOf(person.cookie);
    const third = cookiesFrom(await signIn(person));
    const thirdId = await sessionIdOf(third);
    await postJson('/api/auth/admin/revoke-user-session', { sessionId: firstId }, { cookie: admin.cookie });
    await postJson('/api/auth/admin/revoke-user-sessions', { userId: person.id }, { cookie: admin.cookie });
    const byAdmin = (await eventsOf(person.id)).filter((event) => event.actorType === 'admin');
    expect(byAdmin.map((event) => [event.type, event.actorId, event.detail])).toEqual([
      ['session_revoked', admin.id, { sessionId: firstId }],
      ['session_revoked', admin.id, { sessionId: thirdId }],
    ]);
  });

  it('user_banned, user_unbanned and role_changed, by the admin; an expired ban lifted by the system', async () => {
    const admin = await signUpAdmin();
    const person = await signUp();
    const admin_ = (type: string) => ({ type, actorType: 'admin', actorId: admin.id });

    await postJson(
      '/api/auth/admin/ban-user',
      { userId: person.id, banReason: 'Spam', banExpiresIn: 3600 },
      { cookie: admin.cookie },
    );
    const banned = await onlyEvent(person.id, 'user_banned');
    expect(banned).toMatchObject({ ...admin_('user_banned'), detail: { banReason: 'Spam' } });
    expect(Date.parse(String(banned.detail?.banExpires)) - Date.now()).toBeGreaterThan(3500_000);
    // The ban ended the session: that is the ban's event, not a revocation.
    expect(await typesOf(person.id)).toEqual(['sign_up', 'user_banned']);

    await postJson('/api/auth/admin/unban-user', { userId: person.id }, { cookie: admin.cookie });
    expect(await onlyEvent(person.id, 'user_unbanned')).toMatchObject(admin_('user_unbanned'));

    await postJson('/api/auth/admin/set-role', { userId: person.id, role: 'admin' }, { cookie: admin.cookie });
    expect(await onlyEvent(person.id, 'role_changed')).toMatchObject({
      ...admin_('role_changed'),
      detail: { role: 'admin' },
    });

    const later = await signUp();
    await postJson('/api/auth/admin/ban-user', { userId: later.id, banExpiresIn: 60 }, { cookie: admin.cookie });
    await withDb((db) =>
      db
        .update(userTable)
        .set({ banExpires: new Date(Date.now() - 1000) })
        .where(eq(userTable.id, later.id)),
    );
    expect((await signIn(later)).status).toBe(200);
    expect(await onlyEvent(later.id, 'user_unbanned')).toMatchObject({
      actorType: 'system',
      actorId: null,
      reason: 'ban_expired',
    });
    expect(await typesOf(later.id)).toEqual(['sign_up', 'user_banned', 'user_unbanned', 'sign_in']);
  });

  it('impersonation_started and impersonation_stopped, by the admin', async () => {
    const on = { ADMIN_IMPERSONATION: 'true' };
    const admin = await signUpAdmin();
    const person = await signUp();
    const started = await postJson(
      '/api/auth/admin/impersonate-user',
      { userId: person.id },
      { cookie: admin.cookie },
      on,
    );
    expect(started.status).toBe(200);
    const impersonated = started.headers
      .getSetCookie()
      .map((pair) => pair.split(';')[0] ?? '')
      .filter((pair) => !pair.endsWith('='))
      .join('; ');
    const sessionId = ((await started.json()) as { session: { id: string } }).session.id;
    expect(await onlyEvent(person.id, 'impersonation_started')).toMatchObject({
      actorType: 'admin',
      actorId: admin.id,
      detail: { sessionId },
    });

    // What the admin does as the user is the admin's.
    const changed = await postJson(
      '/api/auth/change-password',
      { currentPassword: person.password, newPassword: 'set while impersonated', revokeOtherSessions: false },
      { cookie: impersonated },
      on,
    );
    expect(changed.status).toBe(200);
    expect(await onlyEvent(person.id, 'password_changed')).toMatchObject({ actorType: 'admin', actorId: admin.id });

    expect((await postJson('/api/auth/admin/stop-impersonating', {}, { cookie: impersonated }, on)).status).toBe(200);
    expect(await onlyEvent(person.id, 'impersonation_stopped')).toMatchObject({
      actorType: 'admin',
      actorId: admin.id,
      detail: { sessionId },
    });
  });

  it('rate_limited: once when the sign-in limit locks an account, however many requests it then refuses', async () => {
    const person = await signUp();
    const { limit } = RATE_LIMITS.signIn.perAccount;
    for (let attempt = 0; attempt < limit; attempt++)
      await signIn(person, 'wrong guess', { 'cf-connecting-ip': randomIp() });
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await signIn(person, 'wrong guess', { 'cf-connecting-ip': randomIp() })).status).toBe(429);
    }
    expect(await onlyEvent(person.id, 'rate_limited')).toMatchObject({
      actorType: 'system',
      actorId: null,
      reason: 'sign-in',
    });
    expect((await eventsOf(person.id)).filter((event) => event.type === 'sign_in_failed')).toHaveLength(limit);
  });

  it('rate_limited: once when wrong current passwords lock an account', async () => {
    const person = await signUp();
    const { limit } = RATE_LIMITS.passwordCheck.perAccount;
    for (let attempt = 0; attempt < limit + 2; attempt++) {
      await postJson(
        '/api/auth/change-password',
        { currentPassword: 'not it', newPassword: 'whatever it may be' },
        { cookie: person.cookie, 'cf-connecting-ip': randomIp() },
      );
    }
    expect(await onlyEvent(person.id, 'rate_limited')).toMatchObject({ actorType: 'system', reason: 'password-check' });
  });

  it('two-factor and passkey events are written where they happen (test/two-factor.test.ts, test/passkeys.test.ts)', async () => {
    const { AUDIT_EVENTS } = await import('../src/audit/events');
    for (const type of ['two_factor_enabled', 'two_factor_disabled', 'passkey_added', 'passkey_removed']) {
      expect(AUDIT_EVENTS[type as keyof typeof AUDIT_EVENTS]).not.toMatch(/not written/i);
    }
  });
});

describe('the hot paths write nothing', () => {
  it('a session read and a token each run one statement and write no event; a sign-in or sign-up adds one', async () => {
    const person = await signUp();
    await tokenFor(person); // the isolate's signing key is loaded now
    const events = await totalEvents();

    for (const path of ['/api/auth/session', '/api/auth/get-session', '/api/me', '/api/auth/token']) {
      const before = databaseWork();
      const response = await callWorker(path, { headers: { cookie: person.cookie } });
      expect(response.status).toBe(200);
      expect(databaseWork().queries - before.queries, path).toBe(1);
    }
    expect(await totalEvents()).toBe(events);

    // A sign-in: the user with its accounts, the admin plugin's ban check,
    // the new session; then, after the answer, its one audit statement.
    const before = databaseWork();
    expect((await signIn(person)).status).toBe(200);
    expect(databaseWork().queries - before.queries).toBe(4);
    expect(await totalEvents()).toBe(events + 1);

    // A sign-up: its transaction (BEGIN, the address check, the user, the
    // password, the ban check, the session, COMMIT), then its one event.
    const beforeSignUp = databaseWork();
    await signUp();
    expect(databaseWork().queries - beforeSignUp.queries).toBe(8);
    expect(await totalEvents()).toBe(events + 2);
  });

  it('writes the events after the answer: a database lost then costs the event, which is logged', async () => {
    const person = await signUp();
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    try {
      // This connection dies at its 4th statement: the audit insert, after the session was made.
      const response = await signIn(
        person,
        person.password,
        {},
        { DATABASE_URL: inject('dropAtQueryDatabaseUrls')[3] },
      );
      expect(response.status).toBe(200);
      const requestId = response.headers.get('x-request-id');
      const lost = errors.map((line) => JSON.parse(line)).find((line) => line.event === 'audit_events_lost');
      expect(lost).toEqual({
        level: 'error',
        event: 'audit_events_lost',
        requestId,
        types: ['sign_in'],
        cause: 'database_unavailable',
      });
    } finally {
      vi.restoreAllMocks();
    }
    expect(await typesOf(person.id)).toEqual(['sign_up']);
  });
});

describe('what is kept about the client', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:0DB8:0001:0000:0000:0000:0000:0001', '2001:db8:1::/48'],
  ])('%s is kept as %s, never in full', async (ip, network) => {
    const person = await signUp();
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    await signIn(person, person.password, { 'cf-connecting-ip': ip, 'user-agent': userAgent });
    const event = await onlyEvent(person.id, 'sign_in');
    expect(event).toMatchObject({ network, userAgent: 'Firefox on Linux', requestId: expect.any(String) });
    expect(JSON.stringify(await eventsOf(person.id))).not.toContain(ip);
  });

  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      'Chrome on macOS',
    ],
    ['curl/8.5.0', 'curl'],
    ['something else entirely', 'Other'],
  ])('a user agent is kept as its family: %s', async (header, family) => {
    const person = await signUp();
    await signIn(person, person.password, { 'user-agent': header });
    expect((await onlyEvent(person.id, 'sign_in')).userAgent).toBe(family);
  });
});

describe('GET /api/me/events', () => {
  it('gives the signed-in user their own events, newest first, a page at a time', async () => {
    const person = await signUp();
    for (let index = 0; index < 3; index++) await signIn(person);
    await signIn(person, 'not the password');
    const stranger = await signUp();

    const first = await callWorker('/api/me/events?limit=2', { headers: { cookie: person.cookie } });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const page1 = (await first.json()) as { events: Array<Record<string, unknown>>; nextCursor: string };
    expect(page1.events.map((event) => event.type)).toEqual(['sign_in_failed', 'sign_in']);
    expect(page1.events[0]).toEqual({
      id: expect.any(String),
      type: 'sign_in_failed',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      method: 'email',
      reason: 'invalid_password',
      network: expect.stringMatching(/^10\.\d+\.\d+\.0\/24$/),
    });

    const rest = await callWorker(`/api/me/events?before=${page1.nextCursor}&limit=10`, {
      headers: { cookie: person.cookie },
    });
    const page2 = (await rest.json()) as { events: Array<{ type: string }>; nextCursor: string | null };
    expect(page2.events.map((event) => event.type)).toEqual(['sign_in', 'sign_in', 'sign_up']);
    expect(page2.nextCursor).toBeNull();
    // Only their own.
    const ids = [...page1.events, ...page2.events].map((event) => (event as { id: string }).id);
    const strangers = (await eventsOf(stranger.id)).map((event) => String(event.id));
    expect(ids.filter((id) => strangers.includes(id))).toEqual([]);
  });

  it('answers 401 without a session and 400 for a bad cursor or page size', async () => {
    expect((await callWorker('/api/me/events')).status).toBe(401);
    const person = await signUp();
    for (const query of ['before=abc', 'before=-1', 'before=1.5', 'limit=0', 'limit=101']) {
      const response = await callWorker(`/api/me/events?${query}`, { headers: { cookie: person.cookie } });
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe('VALIDATION_ERROR');
    }
  });

  it('is rate limited per session', async () => {
    const person = await signUp();
    const { limit } = RATE_LIMITS.events.perAccount;
    for (let attempt = 0; attempt < limit; attempt++) {
      expect((await callWorker('/api/me/events', { headers: { cookie: person.cookie } })).status).toBe(200);
    }
    expect((await callWorker('/api/me/events', { headers: { cookie: person.cookie } })).status).toBe(429);
  });
});

describe('GET /api/admin/events', () => {
  it('answers 403 NOT_ADMIN to a user and 401 to nobody', async () => {
    const person = await signUp();
    const asUser = await callWorker(`/api/admin/events?userId=${person.id}`, { headers: { cookie: person.cookie } });
    expect(asUser.status).toBe(403);
    expect(((await asUser.json()) as { code: string }).code).toBe('NOT_ADMIN');
    expect((await callWorker('/api/admin/events')).status).toBe(401);
  });

  it('gives an admin anyone’s events with the actor, filtered by user and type, paged', async () => {
    const admin = await signUpAdmin();
    const person = await signUp();
    await signIn(person);
    await postJson('/api/auth/admin/ban-user', { userId: person.id, banReason: 'Testing' }, { cookie: admin.cookie });
    const read = (query: string) =>
      callWorker(`/api/admin/events?${query}`, { headers: { cookie: admin.cookie } }).then(
        async (response) =>
          (await response.json()) as { events: Array<Record<string, unknown>>; nextCursor: string | null },
      );

    const all = await read(`userId=${person.id}`);
    expect(all.events.map((event) => event.type)).toEqual(['user_banned', 'sign_in', 'sign_up']);
    expect(all.events[0]).toMatchObject({
      userId: person.id,
      actor: { type: 'admin', id: admin.id },
      detail: { banReason: 'Testing', banExpires: null },
      requestId: expect.any(String),
    });
    expect(all.events[1]).toMatchObject({ actor: { type: 'user', id: person.id }, method: 'email' });

    const bans = await read('type=user_banned&limit=1');
    expect(bans.events).toHaveLength(1);
    expect(bans.events[0]).toMatchObject({ type: 'user_banned', userId: person.id });
    expect(bans.nextCursor).toEqual(expect.any(String));
    const older = await read(`type=user_banned&limit=100&before=${bans.nextCursor}`);
    expect(older.events.every((event) => event.type === 'user_banned' && event.id !== bans.events[0]?.id)).toBe(true);

    const unknownType = await callWorker('/api/admin/events?type=everything', { headers: { cookie: admin.cookie } });
    expect(unknownType.status).toBe(400);
  });
});

describe('the table is append-only', () => {
  it('refuses to change or truncate events; retention may delete them', async () => {
    const person = await signUp();
    const [event] = await eventsOf(person.id);
    await expect(
      withDb((db) =>
        db
          .update(auditEvent)
          .set({ type: 'sign_in' })
          .where(eq(auditEvent.id, event?.id as number)),
      ),
    ).rejects.toThrow();
    await expect(withDb((db) => db.execute(sql`truncate audit_event`))).rejects.toThrow();
    expect(await typesOf(person.id)).toEqual(['sign_up']);
    await withDb((db) => db.delete(auditEvent).where(eq(auditEvent.id, event?.id as number)));
    expect(await typesOf(person.id)).toEqual([]);
  });
});

describe('retention', () => {
  /** Runs the Worker's cron handler as the scheduler would, now. */
  async function runCron(overrides: EnvOverrides = {}): Promise<void> {
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ scheduledTime: new Date(), cron: '17 * * * *' }),
      { ...env, ...overrides } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
  }

  /** Events about one made-up user, written `daysAgo` days before now: the clock the cron reads against. */
  async function eventsAged(daysAgo: number[]): Promise<string> {
    const userId = `retention-${crypto.randomUUID()}`;
    await withDb((db) =>
      db.insert(auditEvent).values(
        daysAgo.map((days) => ({
          type: 'sign_in',
          userId,
          actorType: 'user',
          actorId: userId,
          createdAt: new Date(Date.now() - days * 24 * 60 * 60 * 1000),
          method: `${days}d`,
        })),
      ),
    );
    return userId;
  }

  const agesOf = async (userId: string) => (await eventsOf(userId)).map((event) => event.method);

  it('the cron keeps 90 days by default and deletes what is older', async () => {
    const userId = await eventsAged([120, 91, 89, 1]);
    await runCron();
    expect(await agesOf(userId)).toEqual(['89d', '1d']);
  });

  it('keeps AUDIT_RETENTION_DAYS when set', async () => {
    const userId = await eventsAged([31, 29]);
    await runCron({ AUDIT_RETENTION_DAYS: '30' });
    expect(await agesOf(userId)).toEqual(['29d']);
  });

  it('refuses an AUDIT_RETENTION_DAYS that is not a number of days from 1 to 3650', async () => {
    for (const value of ['0', '3651', 'ninety', '1.5']) {
      const response = await callWorker('/api/me', {}, { AUDIT_RETENTION_DAYS: value });
      expect(response.status, value).toBe(500);
      expect(((await response.json()) as { message: string }).message).toContain('AUDIT_RETENTION_DAYS');
    }
  });
});

describe('signing keys', () => {
  afterEach(() => forgetKeySnapshots());

  it('signing_key_revoked and signing_key_rotated, by the system, in the rotation’s transaction', async () => {
    const config = readConfig(env);
    const keys = await withDb((db) => readKeys(db));
    const current = keys.find((key) => keyState(key) === 'current');
    const before = await withDb((db) =>
      db.select().from(auditEvent).where(sql`${auditEvent.userId} is null`).orderBy(asc(auditEvent.id)),
    );

    const report = await withDb((db) =>
      rotateSigningKeys(db, rotationSettings(config), new Date(), { revoke: current?.id }),
    );

    const after = await withDb((db) =>
      db.select().from(auditEvent).where(sql`${auditEvent.userId} is null`).orderBy(asc(auditEvent.id)),
    );
    const added = after.slice(before.length);
    expect(added.map((event) => [event.type, event.actorType, event.actorId])).toEqual([
      ['signing_key_revoked', 'system', null],
      ['signing_key_rotated', 'system', null],
    ]);
    expect(added[0]?.detail).toEqual({ kid: current?.id });
    expect(added[1]?.detail).toMatchObject({ activated: report.activated });
  });
});
