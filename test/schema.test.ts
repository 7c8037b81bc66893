import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { betterAuth } from 'better-auth/minimal';
import { describe, expect, it } from 'vitest';
import * as schema from '../src/db/schema';
import { betterAuthOptionsFor, withDb } from './helpers';

// Better Auth can compare the Drizzle schema (src/db/schema.ts) with the
// tables and fields it and its plugins expect. The Worker turns that off
// (advanced.database.validateSchema in src/auth.ts): both sides are code, so
// comparing them on every request proves nothing new. These tests compare
// them once, with the Worker's own options and the check turned back on.

type Options = ReturnType<typeof betterAuthOptionsFor>;

function withSchemaCheck(options: Options, database: Options['database'] = options.database) {
  return betterAuth({
    ...options,
    database,
    advanced: { ...options.advanced, database: { ...options.advanced.database, validateSchema: true } },
  });
}

describe('the Drizzle schema', () => {
  it("has every table and field Better Auth and the Worker's plugins expect", async () => {
    const auth = withSchemaCheck(betterAuthOptionsFor());
    // Any endpoint call runs the check first; a mismatch rejects it.
    await expect(auth.api.getSession({ headers: new Headers() })).resolves.toBeNull();
  });

  it('would be refused without a table a plugin needs, so the check above can fail', async () => {
    const { twoFactor: _twoFactor, ...withoutTwoFactor } = schema;
    await withDb(async (db) => {
      const database = drizzleAdapter(db, { provider: 'pg', schema: withoutTwoFactor });
      const auth = withSchemaCheck(betterAuthOptionsFor(), database);
      await expect(auth.api.getSession({ headers: new Headers() })).rejects.toThrow(/two_?factor/i);
    });
  });
});
