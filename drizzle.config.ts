import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` needs no database; `npm run db:migrate` applies
// migrations/ to DATABASE_URL (for Neon, use the direct, non-pooled URL).
const url = process.env.DATABASE_URL;
if (!url && process.argv.includes('migrate')) {
  throw new Error('Set DATABASE_URL to the database to migrate (for Neon, its direct, non-pooled URL).');
}

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  dbCredentials: { url: url ?? '' },
});
