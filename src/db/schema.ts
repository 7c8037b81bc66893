import { relations, sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

// Better Auth's core tables (better-auth 1.7) with the admin and two-factor
// plugins' fields, the JWT plugin's `jwks`, the two-factor plugin's
// `two_factor`, the passkey plugin's `passkey`, and our `audit_event`. Column names match Better
// Auth's field names; ids are Better Auth's generated strings, so every
// primary key of its tables is text.

export const user = pgTable('user', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  // Unique: sign-up relies on it to refuse a second account for one address
  // even when two requests race past Better Auth's own existence check.
  email: text('email').notNull().unique(),
  emailVerified: boolean('email_verified').notNull().default(false),
  image: text('image'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  // The admin plugin's fields (src/admin/). Better Auth sets the role of
  // each new user; the default gives users from before the plugin the same.
  role: text('role').default('user'),
  banned: boolean('banned').default(false),
  banReason: text('ban_reason'),
  // Null with banned: a ban without an end.
  banExpires: timestamp('ban_expires', { withTimezone: true }),
  // The two-factor plugin's flag: set once a first TOTP code confirmed the
  // secret; a password sign-in then asks for a code (src/two-factor.ts).
  twoFactorEnabled: boolean('two_factor_enabled').default(false),
});

export const session = pgTable(
  'session',
  {
    id: text('id').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    token: text('token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    // Nullable: sessions created server-side (auth.api) have no client.
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    // The admin who opened this session as its user (impersonation); null for
    // the user's own sessions.
    impersonatedBy: text('impersonated_by'),
    // How the user proved who they are when this session was opened: RFC 8176
    // values separated by spaces ("pwd", "pwd otp mfa", "hwk mfa", "fed"),
    // written once at creation (src/amr.ts) so a token reads it with the
    // session. Null for sessions from before the column and for impersonation.
    amr: text('amr'),
  },
  (table) => [
    // Every authenticated request looks its session up by token.
    uniqueIndex('session_token_idx').on(table.token),
    index('session_user_id_idx').on(table.userId),
  ],
);

export const account = pgTable(
  'account',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    // OAuth tokens are null for the email/password ("credential") account.
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: timestamp('access_token_expires_at', { withTimezone: true }),
    refreshTokenExpiresAt: timestamp('refresh_token_expires_at', { withTimezone: true }),
    scope: text('scope'),
    // The password hash; null for OAuth accounts.
    password: text('password'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('account_user_id_idx').on(table.userId),
    uniqueIndex('account_provider_account_idx').on(table.providerId, table.accountId),
  ],
);

export const verification = pgTable(
  'verification',
  {
    id: text('id').primaryKey(),
    identifier: text('identifier').notNull(),
    value: text('value').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('verification_identifier_idx').on(table.identifier)],
);

/**
 * The two-factor plugin's TOTP secret and backup codes, one row per user.
 * Both are encrypted with BETTER_AUTH_SECRET (Better Auth's symmetric
 * encryption), never stored readable. `verified` stays false until a first
 * code confirms the secret.
 */
export const twoFactor = pgTable(
  'two_factor',
  {
    id: text('id').primaryKey(),
    secret: text('secret').notNull(),
    backupCodes: text('backup_codes').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    verified: boolean('verified').default(true),
    // Better Auth's own lockout of code checks; ours is in the Durable Object.
    failedVerificationCount: integer('failed_verification_count').default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
  },
  (table) => [uniqueIndex('two_factor_user_id_idx').on(table.userId)],
);

/** The passkey plugin's WebAuthn credentials: public keys only, nothing secret. */
export const passkey = pgTable(
  'passkey',
  {
    id: text('id').primaryKey(),
    // The user's own label; nullable because a passkey may be added without one.
    name: text('name'),
    publicKey: text('public_key').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    credentialID: text('credential_id').notNull(),
    counter: integer('counter').notNull(),
    // singleDevice (a hardware-bound key) or multiDevice (synced): amr hwk or swk.
    deviceType: text('device_type').notNull(),
    backedUp: boolean('backed_up').notNull(),
    transports: text('transports'),
    createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
    aaguid: text('aaguid'),
  },
  (table) => [
    index('passkey_user_id_idx').on(table.userId),
    // A sign-in finds its passkey by credential id; one credential, one row.
    uniqueIndex('passkey_credential_id_idx').on(table.credentialID),
  ],
);

// Relations let Better Auth read a session and its user in one query
// (`advanced.database.joins` in src/auth.ts).
export const userRelations = relations(user, ({ many }) => ({
  sessions: many(session),
  accounts: many(account),
}));

export const sessionRelations = relations(session, ({ one }) => ({
  user: one(user, { fields: [session.userId], references: [user.id] }),
}));

export const accountRelations = relations(account, ({ one }) => ({
  user: one(user, { fields: [account.userId], references: [user.id] }),
}));

/**
 * JWT signing keys. Better Auth's `jwks` columns plus `activated_at`; the
 * lifecycle (src/jwt/key-store.ts) is read from the timestamps:
 *   next     activated_at null,     expires_at null   published, not signing yet
 *   current  activated_at not null, expires_at null   published and signing
 *   retired  expires_at not null                      published until deleted
 */
export const jwks = pgTable(
  'jwks',
  {
    id: text('id').primaryKey(),
    publicKey: text('public_key').notNull(),
    // Encrypted with BETTER_AUTH_SECRET; never stored in the clear.
    privateKey: text('private_key').notNull(),
    // When the key was first published in the JWKS.
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    // When it started signing; null while it waits to be published long enough.
    activatedAt: timestamp('activated_at', { withTimezone: true }),
    // When it stopped signing (retired); null while it may still sign.
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    // Nullable in Better Auth's schema, where rows from before these columns
    // existed mean the default algorithm; every row we write sets them.
    alg: text('alg'),
    crv: text('crv'),
  },
  (table) => [
    // At most one signing key and one waiting key, whatever the number of
    // isolates rotating at once: the database refuses a second.
    uniqueIndex('jwks_single_current_idx')
      .on(sql`(true)`)
      .where(sql`${table.activatedAt} is not null and ${table.expiresAt} is null`),
    uniqueIndex('jwks_single_next_idx')
      .on(sql`(true)`)
      .where(sql`${table.activatedAt} is null and ${table.expiresAt} is null`),
  ],
);

/**
 * Security events (src/audit/): appended, never updated (a trigger refuses
 * it, migrations/0002), deleted only by retention. No foreign keys: an event
 * is a fact about a user or a key that stays true after either is gone.
 */
export const auditEvent = pgTable(
  'audit_event',
  {
    // Increasing: the order events were written, and the paging cursor.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    type: text('type').notNull(),
    // Null for events about no user (signing keys).
    userId: text('user_id'),
    // 'user' (the request acted as the user), 'admin' or 'system'.
    actorType: text('actor_type').notNull(),
    // The admin's user id; null for the system, the user's own id for 'user'.
    actorId: text('actor_id'),
    // How: the sign-in method, or the provider linked or unlinked.
    method: text('method'),
    // Why it failed or happened (sign_in_failed: invalid_password, banned, ...).
    reason: text('reason'),
    // The client's IPv4 /24 or IPv6 /48, never its address; null without one.
    network: text('network'),
    // Browser and system families ("Firefox on Linux"), never the raw header.
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    // Facts for admins: a session id, a role, a ban's reason and end, key ids.
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (table) => [
    // A user's events, newest first (/api/me/events, the admin filter).
    index('audit_event_user_idx').on(table.userId, table.id),
    index('audit_event_type_idx').on(table.type, table.id),
    // Retention deletes by age.
    index('audit_event_created_at_idx').on(table.createdAt),
  ],
);
