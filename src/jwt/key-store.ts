import { and, eq, isNotNull, lte, sql } from 'drizzle-orm';
import { type AuditEvent, SYSTEM_ACTOR } from '../audit/events';
import { insertAuditEvents } from '../audit/store';
import type { AnyDatabase } from '../db/any-database';
import * as schema from '../db/schema';
import { decryptPrivateKey, encryptPrivateKey, generateSigningKey, type KeySecrets } from './key-crypto';
import { type JwtAlgorithm, PUBLISH_AHEAD_MS, RETIRED_KEY_RETENTION_MS, SIGNING_KEY_LIFETIME_MS } from './policy';

const { jwks } = schema;

/** Any Drizzle Postgres database: the Worker's Neon pool or node-postgres in scripts. */
export type KeyDatabase = AnyDatabase;

export type StoredKey = typeof jwks.$inferSelect;
export type KeyState = 'next' | 'current' | 'retired';

export function keyState(key: StoredKey): KeyState {
  if (key.expiresAt) return 'retired';
  return key.activatedAt ? 'current' : 'next';
}

export function readKeys(db: KeyDatabase): Promise<StoredKey[]> {
  return db.select().from(jwks).orderBy(jwks.createdAt);
}

export interface RotationSettings {
  /** Algorithm for new keys (JWT_ALG). */
  alg: JwtAlgorithm;
  secrets: KeySecrets;
}

/** The rotation settings of a deployment, from its configuration (or the same values read by a script). */
export function rotationSettings(config: {
  jwtAlg: JwtAlgorithm;
  secret: string;
  previousSecret?: string | undefined;
}): RotationSettings {
  return { alg: config.jwtAlg, secrets: { current: config.secret, previous: config.previousSecret } };
}

export interface RotationReport {
  created: string[];
  activated: string[];
  retired: string[];
  deleted: string[];
  reencrypted: string[];
  /** Keys that neither the current nor the previous secret decrypts. */
  unreadable: string[];
}

/** Serializes rotation across isolates, cron runs and the operator command. */
const ROTATION_LOCK = sql`select pg_advisory_xact_lock(hashtext('auth-worker:jwks-rotation'))`;

async function insertKey(db: KeyDatabase, settings: RotationSettings, now: Date, activate: boolean): Promise<string> {
  const key = await generateSigningKey(settings.alg);
  const id = crypto.randomUUID();
  await db.insert(jwks).values({
    id,
    publicKey: JSON.stringify(key.publicJwk),
    privateKey: await encryptPrivateKey(settings.secrets.current, key.privateJwk),
    alg: key.alg,
    crv: key.crv ?? null,
    createdAt: now,
    activatedAt: activate ? now : null,
  });
  return id;
}

/**
 * Moves the key lifecycle forward to `now`; safe to run at any time, from
 * anywhere, as often as wanted (the cron runs it hourly):
 *
 * 1. No key at all: create one that signs at once (nobody can have cached a
 *    JWKS yet, so there is nothing to publish ahead of).
 * 2. A waiting key of another algorithm than JWT_ALG never signed: replace it.
 * 3. The signing key is due for replacement (its lifetime is up, or JWT_ALG
 *    changed) and no successor waits: publish one, PUBLISH_AHEAD before use.
 * 4. The successor has been published for PUBLISH_AHEAD: it signs from now,
 *    the old key is retired.
 * 5. Keys retired RETIRED_KEY_RETENTION ago leave the JWKS.
 * 6. Keys still encrypted with the previous secret are re-encrypted.
 *
 * `revoke` deletes a compromised key first, inside the same transaction.
 * A revocation, and a key that starts signing, are audit events written in
 * the same transaction: there is no change without its event.
 *
 * All in one transaction under an advisory lock; the partial unique indexes
 * on `jwks` guarantee one current and one waiting key even without it.
 */
export async function rotateSigningKeys(
  db: KeyDatabase,
  settings: RotationSettings,
  now: Date = new Date(),
  options: { revoke?: string } = {},
): Promise<RotationReport> {
  const report: RotationReport = {
    created: [],
    activated: [],
    retired: [],
    deleted: [],
    reencrypted: [],
    unreadable: [],
  };

  await db.transaction(async (tx) => {
    await tx.execute(ROTATION_LOCK);
    if (options.revoke) {
      // Emergency: the key goes now, and the steps below make another sign at once.
      const revoked = await tx.delete(jwks).where(eq(jwks.id, options.revoke)).returning({ id: jwks.id });
      if (revoked.length === 0) throw new Error(`No key ${options.revoke}.`);
      report.deleted.push(options.revoke);
    }
    const keys = await readKeys(tx);
    let current = keys.find((key) => keyState(key) === 'current');
    let next = keys.find((key) => keyState(key) === 'next');

    if (!current && !next) {
      report.created.push(await insertKey(tx, settings, now, true));
      report.activated.push(...report.created);
    } else if (!current && next) {
      // The signing key was removed by hand: the waiting key is all there is.
      await tx.update(jwks).set({ activatedAt: now }).where(eq(jwks.id, next.id));
      report.activated.push(next.id);
      current = { ...next, activatedAt: now };
      next = undefined;
    }

    if (next && next.alg !== settings.alg) {
      await tx.delete(jwks).where(eq(jwks.id, next.id));
      report.deleted.push(next.id);
      next = undefined;
    }

    if (current && !next && report.created.length === 0) {
      const dueAt = (current.activatedAt?.getTime() ?? 0) + SIGNING_KEY_LIFETIME_MS - PUBLISH_AHEAD_MS;
      if (current.alg !== settings.alg || dueAt <= now.getTime()) {
        const id = await insertKey(tx, settings, now, false);
        report.created.push(id);
      }
    }

    if (current && next && next.createdAt.getTime() + PUBLISH_AHEAD_MS <= now.getTime()) {
      await tx.update(jwks).set({ expiresAt: now }).where(eq(jwks.id, current.id));
      await tx.update(jwks).set({ activatedAt: now }).where(eq(jwks.id, next.id));
      report.retired.push(current.id);
      report.activated.push(next.id);
    }

    const deleted = await tx
      .delete(jwks)
      .where(and(isNotNull(jwks.expiresAt), lte(jwks.expiresAt, new Date(now.getTime() - RETIRED_KEY_RETENTION_MS))))
      .returning({ id: jwks.id });
    report.deleted.push(...deleted.map((row) => row.id));

    if (settings.secrets.previous) {
      for (const key of await readKeys(tx)) {
        // A key neither secret opens is reported, not fatal: the lifecycle
        // above must keep moving.
        const opened = await decryptPrivateKey(key.id, key.privateKey, settings.secrets).catch(() => undefined);
        if (!opened) {
          report.unreadable.push(key.id);
          continue;
        }
        const { jwk, usedPreviousSecret } = opened;
        if (!usedPreviousSecret) continue;
        const privateKey = await encryptPrivateKey(settings.secrets.current, jwk);
        await tx.update(jwks).set({ privateKey }).where(eq(jwks.id, key.id));
        report.reencrypted.push(key.id);
      }
    }

    const events: AuditEvent[] = [];
    if (options.revoke) {
      events.push({ type: 'signing_key_revoked', userId: null, actor: SYSTEM_ACTOR, detail: { kid: options.revoke } });
    }
    if (report.activated.length > 0) {
      const detail = { activated: report.activated, retired: report.retired };
      events.push({ type: 'signing_key_rotated', userId: null, actor: SYSTEM_ACTOR, detail });
    }
    await insertAuditEvents(tx, events);
  });

  return report;
}
