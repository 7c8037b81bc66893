import { type JWTPayload, SignJWT } from 'jose';
import { createDb } from '../db/client';
import type { AppConfig } from '../env';
import { AppError, ErrorCode } from '../errors';
import { getKeySnapshot, type KeySnapshot, type KeySource } from './key-cache';

/** Where this deployment's keys live and how to open them. */
export function keySourceFor(config: AppConfig, ctx: Pick<ExecutionContext, 'waitUntil'>): KeySource {
  return {
    id: config.databaseUrl,
    alg: config.jwtAlg,
    secrets: { current: config.secret, previous: config.previousSecret },
    openDb: () => createDb(config),
    waitUntil: (work) => ctx.waitUntil(work),
  };
}

export async function readKeySnapshot(source: KeySource): Promise<KeySnapshot> {
  try {
    return await getKeySnapshot(source);
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', event: 'keys_unavailable', error: (error as Error).name }));
    throw new AppError(
      503,
      ErrorCode.KEYS_UNAVAILABLE,
      'The signing keys cannot be read right now; try again shortly.',
      { cause: error, headers: { 'retry-after': '5' } },
    );
  }
}

/**
 * Signs a JWT whose claims Better Auth has already built (iss, aud, exp, sub
 * and our payload) with the current key from the isolate cache: no key
 * lookup or decryption per token once warm.
 */
export async function signWithCurrentKey(source: KeySource, payload: JWTPayload, header?: { typ?: string }) {
  const { signer } = await readKeySnapshot(source);
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'JWT', ...header, alg: signer.alg, kid: signer.kid })
    .sign(signer.key);
}
