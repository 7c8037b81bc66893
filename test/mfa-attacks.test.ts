// Attacks on two-factor and passkeys found in review: each test performs one
// and expects it to fail.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { passkey, user as userTable } from '../src/db/schema';
import { RATE_LIMITS } from '../src/rate-limit';
import { softwareAuthenticator } from './fakes/authenticator';
import {
  callWorker,
  type EnvOverrides,
  postJson,
  randomIp,
  signUp,
  TEST_AUTH_URL,
  type TestUser,
  withDb,
} from './helpers';
import { totpCode, wrongTotpCode } from './totp';

interface TwoFactorUser extends TestUser {
  totpURI: string;
}

function cookieIn(response: Response, name: RegExp): string | undefined {
  return response.headers
    .getSetCookie()
    .map((item) => item.split(';')[0] as string)
    .find((item) => name.test(item));
}

async function signUpWithTwoFactor(): Promise<TwoFactorUser> {
  return signUpWithTwoFactorFor(await signUp());
}

async function signUpWithTwoFactorFor(person: TestUser): Promise<TwoFactorUser> {
  const enable = await postJson(
    '/api/auth/two-factor/enable',
    { password: person.password },
    { cookie: person.cookie },
  );
  expect(enable.status).toBe(200);
  const { totpURI } = (await enable.json()) as { totpURI: string };
  const confirm = await postJson(
    '/api/auth/two-factor/verify-totp',
    { code: await totpCode(totpURI) },
    { cookie: person.cookie },
  );
  expect(confirm.status).toBe(200);
  return { ...person, cookie: cookieIn(confirm, /better-auth\.session_token=./) as string, totpURI };
}

/** The password step: the pending sign-in's cookie (`name=value`). */
async function challengeFor(person: TestUser): Promise<string> {
  const answer = await postJson(
    '/api/auth/sign-in/email',
    { email: person.email, password: person.password },
    { 'cf-connecting-ip': randomIp() },
  );
  expect(answer.status).toBe(200);
  const cookie = cookieIn(answer, /better-auth\.two_factor=./);
  if (!cookie) throw new Error('no two-factor cookie');
  return cookie;
}

function sendCode(code: string, cookie: string) {
  return postJson('/api/auth/two-factor/verify-totp', { code }, { cookie, 'cf-connecting-ip': randomIp() });
}

describe('the per-account limit on codes cannot be dodged by how the cookie is written', () => {
  const { limit } = RATE_LIMITS.twoFactorCode.perAccount;
  // Better Auth's cookie parser trims names, unquotes values and reads only the
  // prefixed name on https; the limiter must find the same pending sign-in.
  const disguises: Array<[string, (cookie: string) => string]> = [
    ['a quoted value', (cookie) => cookie.replace('=', '="').concat('"')],
    ['a space before the equals sign', (cookie) => cookie.replace('=', ' =')],
    ['a decoy without the __Secure- prefix first', (cookie) => `better-auth.two_factor=2fa-decoy.sig; ${cookie}`],
  ];

  it.each(disguises)('%s', async (_label, disguise) => {
    const person = await signUpWithTwoFactor();
    const wrong = await wrongTotpCode(person.totpURI);
    const answers: string[] = [];
    let challenge = '';
    for (let attempt = 0; attempt < limit + 1; attempt++) {
      // Better Auth allows 5 tries per pending sign-in: a guesser starts new ones.
      if (attempt % 2 === 0) challenge = disguise(await challengeFor(person));
      const answer = await sendCode(wrong, challenge);
      answers.push(`${answer.status} ${((await answer.json()) as { code?: string }).code}`);
    }
    // Better Auth read the disguised cookie: each was a wrong code of this pending sign-in.
    expect(answers.slice(0, limit)).toEqual(Array(limit).fill('401 INVALID_CODE'));
    expect(answers[limit]).toBe('429 RATE_LIMITED');
  });
});

describe('a TOTP code works once', () => {
  it('a code that completed a sign-in does not complete another (RFC 6238 §5.2)', async () => {
    const person = await signUpWithTwoFactor();
    // The code that turned two-factor on was the current one: wait for a fresh step's code.
    const code = await totpCode(person.totpURI, Date.now() + 30_000);
    const first = await sendCode(code, await challengeFor(person));
    expect(first.status).toBe(200);
    // Someone who saw the code (over the shoulder, a keylogger) and knows the password.
    const replay = await sendCode(code, await challengeFor(person));
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { code: string }).code).toBe('INVALID_CODE');
    expect(cookieIn(replay, /better-auth\.session_token=./)).toBeUndefined();
  });
});

describe('turning two-factor on ends the sessions opened with the password alone', () => {
  it('a session from before cannot read the new TOTP secret with the password', async () => {
    const person = await signUp();
    // Someone with the password signed in before the owner turned two-factor on.
    const before = await postJson(
      '/api/auth/sign-in/email',
      { email: person.email, password: person.password },
      { 'cf-connecting-ip': randomIp() },
    );
    const theirs = cookieIn(before, /better-auth\.session_token=./) as string;
    const owner = await signUpWithTwoFactorFor(person);

    const uri = await postJson('/api/auth/two-factor/get-totp-uri', { password: person.password }, { cookie: theirs });
    expect(uri.status).toBe(401);
    const off = await postJson('/api/auth/two-factor/disable', { password: person.password }, { cookie: theirs });
    expect(off.status).toBe(401);
    // The owner's session, the one that turned it on, stays.
    const mine = await callWorker('/api/auth/get-session', { headers: { cookie: owner.cookie } });
    expect(((await mine.json()) as { user?: { id: string } } | null)?.user?.id).toBe(person.id);
  });
});

describe('an impersonating admin cannot leave a passkey behind', () => {
  const IMPERSONATION_ON: EnvOverrides = { ADMIN_IMPERSONATION: 'true' };

  it('an impersonated session may not register a passkey on the user', async () => {
    const admin = await signUp();
    await withDb((db) => db.update(userTable).set({ role: 'admin' }).where(eq(userTable.id, admin.id)));
    const target = await signUp();
    const started = await postJson(
      '/api/auth/admin/impersonate-user',
      { userId: target.id },
      { cookie: admin.cookie },
      IMPERSONATION_ON,
    );
    expect(started.status).toBe(200);
    const cookie = cookieIn(started, /better-auth\.session_token=./) as string;

    // A passkey outlives the impersonation: the admin could sign in as the
    // user later, unmarked (no `act`), with `mfa` in the token.
    const options = await callWorker(
      '/api/auth/passkey/generate-register-options',
      { headers: { cookie } },
      IMPERSONATION_ON,
    );
    if (options.status === 200) {
      const publicKey = (await options.json()) as { challenge: string; rp: { id: string }; user: { id: string } };
      const response = await softwareAuthenticator({ origin: TEST_AUTH_URL }).create(publicKey);
      const challenge = cookieIn(options, /better-auth-passkey=/) as string;
      await postJson(
        '/api/auth/passkey/verify-registration',
        { response },
        { cookie: `${cookie}; ${challenge}` },
        IMPERSONATION_ON,
      );
    }
    expect(options.status).toBe(403);
    expect(((await options.clone().json()) as { code: string }).code).toBe('IMPERSONATED_SESSION');
    const rows = await withDb((db) => db.select().from(passkey).where(eq(passkey.userId, target.id)));
    expect(rows).toHaveLength(0);
  });
});

describe('a passkey follows REQUIRE_EMAIL_VERIFICATION', () => {
  it('does not sign in a user whose email is unverified, as the password does not', async () => {
    const person = await signUp();
    const authenticator = softwareAuthenticator({ origin: TEST_AUTH_URL });
    // Added while verification was not required (or before it was turned on).
    const options = await callWorker('/api/auth/passkey/generate-register-options', {
      headers: { cookie: person.cookie },
    });
    const publicKey = (await options.json()) as { challenge: string; rp: { id: string }; user: { id: string } };
    const added = await postJson(
      '/api/auth/passkey/verify-registration',
      { response: await authenticator.create(publicKey) },
      { cookie: `${person.cookie}; ${cookieIn(options, /better-auth-passkey=/)}` },
    );
    expect(added.status).toBe(200);

    const required: EnvOverrides = { REQUIRE_EMAIL_VERIFICATION: 'true' };
    const password = await postJson(
      '/api/auth/sign-in/email',
      { email: person.email, password: person.password },
      {},
      required,
    );
    expect(password.status).toBe(403);
    const challenge = await callWorker('/api/auth/passkey/generate-authenticate-options', {}, required);
    const assertion = await authenticator.get((await challenge.json()) as { challenge: string; rpId: string });
    const signIn = await postJson(
      '/api/auth/passkey/verify-authentication',
      { response: assertion },
      { cookie: cookieIn(challenge, /better-auth-passkey=/) as string },
      required,
    );
    expect(signIn.status).toBe(403);
    expect(await signIn.json()).toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
    expect(cookieIn(signIn, /better-auth\.session_token=./)).toBeUndefined();
  });
});
