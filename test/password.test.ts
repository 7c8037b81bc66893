import { hashPassword as betterAuthHash } from 'better-auth/crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { account } from '../src/db/schema';
import { hashPassword, verifyPassword } from '../src/password';
import { type EnvOverrides, postJson, signUp, withDb } from './helpers';

// Password hashes carry their scrypt parameters (src/password.ts), so that
// PASSWORD_HASH_PARAMS can change without locking out anybody whose hash was
// made before the change, and hashes from before this format keep working.

const CHEAP: EnvOverrides = { PASSWORD_HASH_PARAMS: 'N=4096,r=8,p=1' };

function storedHash(userId: string): Promise<string> {
  return withDb(async (db) => {
    const [row] = await db
      .select({ password: account.password })
      .from(account)
      .where(and(eq(account.userId, userId), eq(account.providerId, 'credential')));
    return row?.password ?? '';
  });
}

function setStoredHash(userId: string, hash: string): Promise<void> {
  return withDb(async (db) => {
    await db
      .update(account)
      .set({ password: hash })
      .where(and(eq(account.userId, userId), eq(account.providerId, 'credential')));
  });
}

function signIn(email: string, password: string, overrides?: EnvOverrides) {
  return postJson('/api/auth/sign-in/email', { email, password }, {}, overrides);
}

describe('password hashes with their parameters', () => {
  it('stores new hashes as scrypt$N$r$p$salt$key with the default cost (Better Auth’s)', async () => {
    const user = await signUp();
    expect(await storedHash(user.id)).toMatch(/^scrypt\$16384\$16\$1\$[0-9a-f]{32}\$[0-9a-f]{128}$/);
  });

  it('signs in a user whose hash is in Better Auth’s own salt:key format', async () => {
    const user = await signUp();
    await setStoredHash(user.id, await betterAuthHash(user.password));
    expect((await signIn(user.email, user.password)).status).toBe(200);
    expect((await signIn(user.email, 'not the password')).status).toBe(401);
  });

  it('keeps verifying a hash made before PASSWORD_HASH_PARAMS changed, in both directions', async () => {
    const cheap = await signUp(CHEAP);
    expect(await storedHash(cheap.id)).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect((await signIn(cheap.email, cheap.password)).status).toBe(200);

    const standard = await signUp();
    expect((await signIn(standard.email, standard.password, CHEAP)).status).toBe(200);
  });

  it.each([
    ['the default format', {}],
    ['a changed cost', CHEAP],
  ])('refuses a wrong password (%s)', async (_name, overrides) => {
    const user = await signUp(overrides);
    const response = await signIn(user.email, `${user.password}!`);
    expect(response.status).toBe(401);
  });

  it('verifies directly, and refuses wrong passwords for either format', async () => {
    const versioned = await hashPassword('pässword one', { N: 1024, r: 8, p: 1 });
    const legacy = await betterAuthHash('pässword one');
    for (const hash of [versioned, legacy]) {
      expect(await verifyPassword(hash, 'pässword one')).toBe(true);
      // NFKC, as Better Auth: the decomposed form is the same password.
      expect(await verifyPassword(hash, 'pa\u0308ssword one')).toBe(true);
      expect(await verifyPassword(hash, 'password one')).toBe(false);
    }
  });

  it.each([
    `scrypt$1073741824$16$1$00112233445566778899aabbccddeeff$${'ab'.repeat(64)}`,
    `scrypt$16384$16$99$00112233445566778899aabbccddeeff$${'ab'.repeat(64)}`,
    'bcrypt$2b$10$abcdefghijklmnopqrstuv',
    'not a hash',
  ])('refuses to work on a stored hash it does not accept: %s', async (hash) => {
    await expect(verifyPassword(hash, 'anything')).rejects.toThrow(/Stored password hash/);
  });
});
