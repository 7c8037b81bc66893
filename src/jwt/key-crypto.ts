import { symmetricDecrypt, symmetricEncrypt } from 'better-auth/crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { JwtAlgorithm } from './policy';

export interface GeneratedKey {
  alg: JwtAlgorithm;
  crv: string | undefined;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function generateSigningKey(alg: JwtAlgorithm): Promise<GeneratedKey> {
  const { publicKey, privateKey } =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, crv: publicJwk.crv, publicJwk, privateJwk: await exportJWK(privateKey) };
}

/** BETTER_AUTH_SECRET encrypts the private keys (and signs cookies): at least this long. */
export const MIN_SECRET_LENGTH = 32;

/** The secrets that can open a stored private key: the current one first. */
export interface KeySecrets {
  current: string;
  previous: string | undefined;
}

// Better Auth's cipher (XChaCha20-Poly1305 under SHA-256 of the secret), hex
// encoded. Better Auth's own jwt plugin additionally wraps the value as a JSON
// string; we store the bare hex, so its rows and ours are not interchangeable.
export function encryptPrivateKey(secret: string, privateJwk: JWK): Promise<string> {
  return symmetricEncrypt({ key: secret, data: JSON.stringify(privateJwk) });
}

export class KeyDecryptionError extends Error {
  constructor(kid: string) {
    super(`Signing key ${kid} cannot be decrypted with BETTER_AUTH_SECRET or BETTER_AUTH_PREVIOUS_SECRET.`);
    this.name = 'KeyDecryptionError';
  }
}

let decryptions = 0;
/** How many private keys this isolate has decrypted: tests prove the cache spares it. */
export function privateKeyDecryptions(): number {
  return decryptions;
}

/** Decrypts with the current secret, falling back to the previous one during a secret change. */
export async function decryptPrivateKey(
  kid: string,
  stored: string,
  secrets: KeySecrets,
): Promise<{ jwk: JWK; usedPreviousSecret: boolean }> {
  decryptions++;
  const candidates = secrets.previous ? [secrets.current, secrets.previous] : [secrets.current];
  for (const [index, secret] of candidates.entries()) {
    try {
      const jwk = JSON.parse(await symmetricDecrypt({ key: secret, data: stored })) as JWK;
      return { jwk, usedPreviousSecret: index > 0 };
    } catch {
      // try the next secret
    }
  }
  throw new KeyDecryptionError(kid);
}

export async function importPrivateKey(jwk: JWK, alg: string): Promise<CryptoKey> {
  return (await importJWK(jwk, alg)) as CryptoKey;
}
