import { describe, expect, it } from 'vitest';
import { callWorker, cookiesFrom, countUsersWithEmail, postJson, signUp, uniqueEmail } from './helpers';

interface SessionBody {
  session: { id: string; userId: string; token: string };
  user: { id: string; email: string; name: string };
}

describe('email and password', () => {
  it('signs up, signs in and reads the session under both names', async () => {
    const created = await signUp();

    const signIn = await postJson('/api/auth/sign-in/email', { email: created.email, password: created.password });
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('cache-control')).toBe('no-store');
    const sessionCookie = signIn.headers
      .getSetCookie()
      .find((cookie) => cookie.startsWith('__Secure-better-auth.session_token='));
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);
    const cookie = cookiesFrom(signIn);

    const session = await callWorker('/api/auth/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    const body = (await session.json()) as SessionBody;
    expect(body.user).toMatchObject({ id: created.id, email: created.email, name: created.name });

    const legacy = await callWorker('/api/auth/get-session', { headers: { cookie } });
    expect(await legacy.json()).toEqual(body);
  });

  it('answers the session endpoints with null when signed out', async () => {
    for (const path of ['/api/auth/session', '/api/auth/get-session']) {
      const response = await callWorker(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toBeNull();
    }
  });

  it('accepts the session token as a bearer token', async () => {
    const created = await signUp();
    const response = await callWorker('/api/auth/session', {
      headers: { authorization: `Bearer ${created.sessionToken}` },
    });
    const body = (await response.json()) as SessionBody;
    expect(body.user.id).toBe(created.id);
  });

  it('signs out: the session and token issuance stop working at once', async () => {
    const created = await signUp();
    expect((await callWorker('/api/auth/token', { headers: { cookie: created.cookie } })).status).toBe(200);

    const signOut = await callWorker('/api/auth/sign-out', { method: 'POST', headers: { cookie: created.cookie } });
    expect(signOut.status).toBe(200);

    expect(await (await callWorker('/api/auth/session', { headers: { cookie: created.cookie } })).json()).toBeNull();
    expect((await callWorker('/api/auth/token', { headers: { cookie: created.cookie } })).status).toBe(401);
    const bearer = await callWorker('/api/auth/token', {
      headers: { authorization: `Bearer ${created.sessionToken}` },
    });
    expect(bearer.status).toBe(401);
  });

  it('refuses a second account for the same email, whatever its case', async () => {
    const created = await signUp();
    for (const email of [created.email, created.email.toUpperCase()]) {
      const again = await postJson('/api/auth/sign-up/email', { email, password: 'another password!', name: 'Twin' });
      expect(again.status).toBe(422);
      expect(await again.json()).toMatchObject({ code: 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL' });
    }
    expect(await countUsersWithEmail(created.email)).toBe(1);
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const created = await signUp();
    const cases = [
      { email: created.email, password: 'not the password' },
      { email: uniqueEmail('ghost'), password: created.password },
    ];
    for (const credentials of cases) {
      const response = await postJson('/api/auth/sign-in/email', credentials);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'INVALID_EMAIL_OR_PASSWORD' });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });
});

describe('GET /api/me', () => {
  it('returns the signed-in user, by cookie or bearer token', async () => {
    const created = await signUp();
    const credentials: HeadersInit[] = [
      { cookie: created.cookie },
      { authorization: `Bearer ${created.sessionToken}` },
    ];
    for (const headers of credentials) {
      const response = await callWorker('/api/me', { headers });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        user: { id: created.id, email: created.email, name: created.name, emailVerified: false },
        session: { id: expect.any(String) },
      });
    }
  });

  it('answers 401 JSON without a session', async () => {
    const response = await callWorker('/api/me', { headers: { authorization: 'Bearer not-a-session' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED', requestId: expect.any(String) });
  });
});
