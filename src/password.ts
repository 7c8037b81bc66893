import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// Password hashes that carry their own cost: `scrypt$N$r$p$salt$key`. The
// cost of new hashes comes from configuration (PASSWORD_HASH_PARAMS); every
// stored hash is verified with the parameters written in it, so changing the
// configuration, up or down, never locks anybody out. Hashes in Better Auth's
// own format (`salt:key`, always N=16384 r=16 p=1) keep verifying too.

export interface PasswordHashParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism (run one after another in a Worker). */
  p: number;
}

/** Better Auth's own parameters (@better-auth/utils/password): the default never drops below them. */
export const BETTER_AUTH_PASSWORD_HASH_PARAMS: Readonly<PasswordHashParams> = Object.freeze({ N: 16384, r: 16, p: 1 });
export const DEFAULT_PASSWORD_HASH_PARAMS = BETTER_AUTH_PASSWORD_HASH_PARAMS;

const KEY_BYTES = 64;
const SALT_BYTES = 16;
// scrypt needs 128·N·r bytes; a Worker isolate has 128 MB in all.
const MAX_SCRYPT_MEMORY = 64 * 2 ** 20;

/**
 * Why these parameters cannot be used, or undefined when they can. Applied to
 * the configuration and to every stored hash, so a tampered row cannot ask
 * for a billion iterations.
 */
export function passwordHashParamsProblem({ N, r, p }: PasswordHashParams): string | undefined {
  if (!Number.isSafeInteger(N) || N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0) {
    return 'N must be a power of two from 1024 to 1048576';
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return 'r must be from 1 to 32';
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return 'p must be from 1 to 16';
  if (128 * N * r > MAX_SCRYPT_MEMORY) return `N·r needs ${(128 * N * r) / 2 ** 20} MiB; at most 64 MiB fits a Worker`;
  return undefined;
}

function deriveKey(password: string, salt: string, { N, r, p }: PasswordHashParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // The salt is used as its hex text, exactly as Better Auth does.
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { N, r, p, maxmem: 2 * 128 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A new hash of `password` with `params`, in the self-describing format. */
export async function hashPassword(password: string, params: PasswordHashParams): Promise<string> {
  const salt = randomBytes(SALT_BYTES).toString('hex');
  const key = await deriveKey(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt}$${key.toString('hex')}`;
}

interface StoredHash {
  params: PasswordHashParams;
  salt: string;
  key: Buffer;
}

const VERSIONED = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([0-9a-f]{2,128})\$([0-9a-f]{128})$/;
const BETTER_AUTH_FORMAT = /^([0-9a-f]{2,128}):([0-9a-f]{128})$/;

function parseStoredHash(hash: string): StoredHash {
  const versioned = VERSIONED.exec(hash);
  if (versioned) {
    const [, N, r, p, salt = '', key = ''] = versioned;
    const params = { N: Number(N), r: Number(r), p: Number(p) };
    const problem = passwordHashParamsProblem(params);
    if (problem) throw new Error(`Stored password hash has unusable parameters: ${problem}`);
    return { params, salt, key: Buffer.from(key, 'hex') };
  }
  const legacy = BETTER_AUTH_FORMAT.exec(hash);
  if (legacy) {
    const [, salt = '', key = ''] = legacy;
    return { params: BETTER_AUTH_PASSWORD_HASH_PARAMS, salt, key: Buffer.from(key, 'hex') };
  }
  // A server fault (a corrupt row), not a wrong password: never reported as one.
  throw new Error('Stored password hash is in an unknown format');
}

/** True when `password` matches `hash`, whichever parameters the hash was made with. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const stored = parseStoredHash(hash);
  const key = await deriveKey(password, stored.salt, stored.params);
  return timingSafeEqual(key, stored.key);
}

/** Better Auth's `emailAndPassword.password` option for the configured cost. */
export function passwordHasher(params: PasswordHashParams) {
  return {
    hash: (password: string) => hashPassword(password, params),
    verify: ({ hash, password }: { hash: string; password: string }) => verifyPassword(hash, password),
  };
}
