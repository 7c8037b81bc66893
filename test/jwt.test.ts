import { eq } from 'drizzle-orm';
import { base64url, createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { session } from '../src/db/schema';
import {
  callWorker,
  cookiesFrom,
  fetchJwks,
  postJson,
  signUp,
  TEST_AUTH_URL,
  tokenFor,
  verifyWithJwks,
  withDb,
} from './helpers';

/** Verifies as a backend would, against the JWKS the Worker serves now. */
async function verifyAsBackend(token: string, audience = TEST_AUTH_URL) {
  return verifyWithJwks((await fetchJwks()).jwks, token, audience);
}

describe('JWTs from /api/auth/token', () => {
  it('issues an EdDSA token that verifies against the JWKS with pinned claims', async () => {
    const user = await signUp();
    const token = await tokenFor(user);

    const { payload, protectedHeader } = await verifyAsBackend(token);
    expect(protectedHeader.alg).toBe('EdDSA');
    const { jwks } = await fetchJwks();
    expect(jwks.keys.map((key) => key.kid)).toContain(protectedHeader.kid);
    expect(jwks.keys.every((key) => !('d' in key))).toBe(true);

    expect(payload.sub).toBe(user.id);
    expect(payload.iss).toBe(TEST_AUTH_URL);
    expect(payload.aud).toBe(TEST_AUTH_URL);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(15 * 60);
    // How the user signed in (RFC 8176): a password sign-up.
    expect(payload.amr).toEqual(['pwd']);
    expect(Object.keys(payload).sort()).toEqual([
      'amr',
      'aud',
      'email',
      'emailVerified',
      'exp',
      'iat',
      'id',
      'iss',
      'name',
      'sub',
    ]);
    expect(payload).toMatchObject({ id: user.id, email: user.email, name: user.name, emailVerified: false });
  });

  it('issues tokens for a bearer session token too', async () => {
    const user = await signUp();
    const response = await callWorker('/api/auth/token', { headers: { authorization: `Bearer ${user.sessionToken}` } });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect((await verifyAsBackend(token)).payload.sub).toBe(user.id);
  });

  it('pins iss and aud from config, never from request headers', async () => {
    const user = await signUp();
    const response = await callWorker('/api/auth/token', {
      headers: {
        cookie: user.cookie,
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      },
    });
    const { token } = (await response.json()) as { token: string };
    const { payload } = await verifyAsBackend(token);
    expect(payload.iss).toBe(TEST_AUTH_URL);
    expect(payload.aud).toBe(TEST_AUTH_URL);
  });

  it('uses JWT_AUDIENCE for aud when set', async () => {
    const user = await signUp();
    const token = await tokenFor(user, { JWT_AUDIENCE: 'https://api.example.com' });
    const { payload } = await verifyAsBackend(token, 'https://api.example.com');
    expect(payload.aud).toBe('https://api.example.com');
    await expect(verifyAsBackend(token)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('answers 401 without a session', async () => {
    const response = await callWorker('/api/auth/token');
    expect(response.status).toBe(401);
  });

  it('produces tokens a verifier rejects once tampered with, unsigned or expired', async () => {
    const user = await signUp();
    const token = await tokenFor(user);
    const [header, payload, signature] = token.split('.') as [string, string, string];

    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const forged = `${header}.${base64url.encode(JSON.stringify({ ...claims, sub: 'someone-else' }))}.${signature}`;
    await expect(verifyAsBackend(forged)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', kid: decodeProtectedHeader(token).kid }))}.${payload}.`;
    await expect(verifyAsBackend(unsigned)).rejects.toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });

    const { privateKey } = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: decodeProtectedHeader(token).kid })
      .sign(privateKey);
    await expect(verifyAsBackend(foreign)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

    const jwks = createLocalJWKSet((await fetchJwks()).jwks);
    const later = new Date(((claims.exp as number) + 1) * 1000);
    await expect(
      jwtVerify(token, jwks, { issuer: TEST_AUTH_URL, audience: TEST_AUTH_URL, currentDate: later }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });
});

describe('the amr claim follows the session', () => {
  it('a password change keeps what the session proved; sessions without amr give no claim', async () => {
    const user = await signUp();
    const changed = await postJson(
      '/api/auth/change-password',
      { currentPassword: user.password, newPassword: 'another good password' },
      { cookie: user.cookie },
    );
    expect(changed.status).toBe(200);
    const cookie = cookiesFrom(changed);
    const { jwks } = await fetchJwks();
    const after = await verifyWithJwks(jwks, await tokenFor({ ...user, cookie }));
    expect(after.payload.amr).toEqual(['pwd']);

    // A session from before the column: no claim rather than a guess.
    await withDb((db) => db.update(session).set({ amr: null }).where(eq(session.userId, user.id)));
    const legacy = await verifyWithJwks(jwks, await tokenFor({ ...user, cookie }));
    expect(legacy.payload).not.toHaveProperty('amr');
  });
});
