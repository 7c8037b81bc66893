import { existsSync, readFileSync } from 'node:fs';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from '../../src/db/schema.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { EMBEDDED_DATA_DIR, EMBEDDED_URL_FILE, loadLocalVariables } from './local-config.ts';
import { applyMigrations } from './migrate.ts';

// The database an operator command (`npm run keys:rotate`, `npm run
// admin:grant`) works on, found the same way for each:
//
// Production: DATABASE_URL in the environment, with the rest of the
// configuration from the environment too (.dev.vars is not read then, so no
// development value leaks in).
// Development: .dev.vars and the environment; without a DATABASE_URL there,
// the embedded database of the running `npm run dev`, or, when none runs,
// that database opened here (and migrated, as `npm run dev` would).

export interface CommandConfiguration {
  /** DATABASE_URL came from the environment: configuration comes from nowhere else. */
  production: boolean;
  /** The variables the command reads. */
  vars: Record<string, string>;
  /** No DATABASE_URL anywhere: the development database (`.data/`), which has a development secret. */
  embedded: boolean;
}

/** The configuration, read before anything is opened, so that a command can refuse bad values first. */
export function commandConfiguration(): CommandConfiguration {
  const production = Boolean(process.env.DATABASE_URL);
  const vars = production ? (process.env as Record<string, string>) : loadLocalVariables();
  return { production, vars, embedded: !vars.DATABASE_URL };
}

export interface CommandDatabase {
  url: string;
  db: NodePgDatabase<typeof schema>;
  close: () => Promise<void>;
}

export async function openCommandDatabase({ vars }: CommandConfiguration): Promise<CommandDatabase> {
  const stops: Array<() => Promise<void>> = [];
  let url = vars.DATABASE_URL;
  if (!url) {
    if (existsSync(EMBEDDED_URL_FILE)) {
      url = readFileSync(EMBEDDED_URL_FILE, 'utf8').trim();
    } else {
      const database = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR });
      stops.push(database.stop);
      url = database.url;
      await applyMigrations(url);
    }
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    for (const stop of stops) await stop();
    throw error;
  }
  stops.unshift(() => client.end());
  return {
    url,
    db: drizzle({ client, schema }),
    close: async () => {
      for (const stop of stops) await stop();
    },
  };
}
