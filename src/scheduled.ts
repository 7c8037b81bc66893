import { pruneAuditEvents } from './audit/store';
import { readConfig } from './config';
import { createDb } from './db/client';
import { rotateSigningKeys, rotationSettings } from './jwt/key-store';
import { purgeKeyCaches } from './jwt/routes';

/**
 * The cron trigger (wrangler.toml): moves the signing-key lifecycle forward
 * and deletes audit events past their retention. Runs are idempotent, so a
 * missed or doubled run is harmless; one step failing does not skip the other.
 */
export async function scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const config = readConfig(env);
  const { db, close } = createDb(config.database);
  const now = new Date(controller.scheduledTime);
  const failures: unknown[] = [];
  try {
    try {
      const report = await rotateSigningKeys(db, rotationSettings(config), now);
      const changed = Object.values(report).some((ids) => ids.length > 0);
      if (changed) await purgeKeyCaches(config.baseURL);
      console.log(JSON.stringify({ level: 'info', event: 'key_rotation', cron: controller.cron, ...report }));
    } catch (error) {
      failures.push(error);
    }
    try {
      const pruned = await pruneAuditEvents(db, now, config.auditRetentionDays);
      console.log(
        JSON.stringify({ level: 'info', event: 'audit_retention', retentionDays: config.auditRetentionDays, pruned }),
      );
    } catch (error) {
      failures.push(error);
    }
    if (failures.length > 0) throw failures[0];
  } finally {
    ctx.waitUntil(close());
  }
}
