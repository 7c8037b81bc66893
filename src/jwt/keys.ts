import { type JWTPayload, SignJWT } from 'jose';
import type { AppConfig } from '../config';
import { createDb } from '../db/client';
import { keysUnavailable } from '../errors';
import { getPublicKeySnapshot, getSigner, type KeySource, type PublicKeySnapshot } from './key-cache';
import { rotationSettings } from './key-store';

/** Where this deployment's keys live and how to open them. */
export function keySourceFor(config: AppConfig, ctx: Pick<ExecutionContext, 'waitUntil'>): KeySource {
  return {
    id: config.database.url,
    ...rotationSettings(config),
    openDb: () => createDb(config.database),
    waitUntil: (work) => ctx.waitUntil(work),
  };
}

/** Runs a read of the key store; any failure is the one 503 KEYS_UNAVAILABLE. */
async function fromKeyStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', event: 'keys_unavailable', error: (error as Error).name }));
    throw keysUnavailable(error);
  }
}

/** The public keys only: nothing here decrypts, so a key this isolate cannot open never stops the JWKS. */
export function readPublicKeys(source: KeySource): Promise<PublicKeySnapshot> {
  return fromKeyStore(() => getPublicKeySnapshot(source));
}

/**
 * Signs a JWT whose claims Better Auth has already built (iss, aud, exp, sub
 * and our payload) with the current key from the isolate cache: no key
 * lookup or decryption per token once warm, and never a copy older than
 * SIGNING_KEY_MAX_AGE_MS (503 KEYS_UNAVAILABLE when it cannot be refreshed).
 */
export async function signWithCurrentKey(source: KeySource, payload: JWTPayload, header?: { typ?: string }) {
  const signer = await fromKeyStore(() => getSigner(source));
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'JWT', ...header, alg: signer.alg, kid: signer.kid })
    .sign(signer.key);
}
