import { readConfig } from './config';
import { createDb } from './db/client';
import { rotateSigningKeys, rotationSettings } from './jwt/key-store';
import { purgeKeyCaches } from './jwt/routes';

/**
 * The cron trigger (wrangler.toml): moves the signing-key lifecycle forward.
 * Runs are idempotent, so a missed or doubled run is harmless.
 */
export async function scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const config = readConfig(env);
  const { db, close } = createDb(config.database);
  try {
    const report = await rotateSigningKeys(db, rotationSettings(config), new Date(controller.scheduledTime));
    const changed = Object.values(report).some((ids) => ids.length > 0);
    if (changed) await purgeKeyCaches(config.baseURL);
    console.log(JSON.stringify({ level: 'info', event: 'key_rotation', cron: controller.cron, ...report }));
  } finally {
    ctx.waitUntil(close());
  }
}
