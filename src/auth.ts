import { passkey } from '@better-auth/passkey';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { type BetterAuthOptions, betterAuth } from 'better-auth/minimal';
import { admin } from 'better-auth/plugins/admin';
import { bearer } from 'better-auth/plugins/bearer';
import { jwt } from 'better-auth/plugins/jwt';
import { twoFactor } from 'better-auth/plugins/two-factor';
import { ADMIN_ROLE, IMPERSONATION_SESSION_SECONDS, USER_ROLE } from './admin/policy';
import { amrClaim, sessionAmr } from './amr';
import type { AuditLog } from './audit/log';
import { auditTrail } from './audit/trail';
import type { AppConfig } from './config';
import { afterPasswordReset, credentialHooks, credentialRules, hashVerificationIdentifier } from './credentials';
import type { Database } from './db/client';
import * as schema from './db/schema';
import type { KeySource } from './jwt/key-cache';
import { signWithCurrentKey } from './jwt/keys';
import { TOKEN_LIFETIME_SECONDS } from './jwt/policy';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './limits';
import { PASSWORD_RESET_LINK_TTL_SECONDS, type SendEmail, VERIFICATION_LINK_TTL_SECONDS } from './mail/mailer';
import { existingAccountEmail, passwordResetEmail, verificationEmail } from './mail/messages';
import { BACKUP_CODE_COUNT, BACKUP_CODE_LENGTH, relyingParty, TWO_FACTOR_CHALLENGE_SECONDS } from './mfa';
import { validateProviderUserInfo } from './oauth/account-policy';
import { providerCallGuard } from './oauth/provider-calls';
import { socialProvidersFor } from './oauth/providers';
import { passkeyNeedsVerifiedEmail } from './passkey-email';
import { passwordHasher } from './password';
import { AUTH_BASE_PATH } from './paths';

/** Better Auth's log lines, without query parameters or error objects. */
function logBetterAuth(level: string, message: string): void {
  const safe = message.split(/\n|params:/)[0]?.slice(0, 200);
  console.log(JSON.stringify({ level, event: 'better_auth', message: safe }));
}

/** What a banned user is told when a sign-in is refused (403 BANNED_USER). */
const BANNED_MESSAGE = 'This account is banned. Contact support if you think this is a mistake.';

/**
 * Builds the Better Auth instance for one request. Bindings and the database
 * pool are per request on Workers, so the instance is too; everything in it
 * comes from validated config, never from request headers. `audit` receives
 * the request's security events (src/audit/trail.ts says which).
 */
export function createAuth(config: AppConfig, db: Database, keys: KeySource, sendEmail: SendEmail, audit: AuditLog) {
  return betterAuth(authOptions(config, db, keys, sendEmail, audit));
}

/**
 * The plugins whose options come from configuration alone, built once per
 * configuration (readConfig keeps one per `env`, which an isolate reuses):
 * they hold no request state, and Better Auth reads a plugin without changing
 * it. Building two-factor's endpoint schemas was 3 % of a token's CPU in a
 * local profile. A plugin whose options reach request state (the audit trail,
 * the `amr`, the key source) is built with the request's instance.
 */
const configuredPlugins = new WeakMap<AppConfig, ReturnType<typeof buildConfiguredPlugins>>();

function pluginsOfConfig(config: AppConfig) {
  let plugins = configuredPlugins.get(config);
  if (!plugins) {
    plugins = buildConfiguredPlugins(config);
    configuredPlugins.set(config, plugins);
  }
  return plugins;
}

function buildConfiguredPlugins(config: AppConfig) {
  return {
    bearer: bearer(),
    // TOTP two-factor at /api/auth/two-factor/* (docs/passkeys-and-two-factor.md).
    // A password sign-in of a user with it on answers `twoFactorRedirect`
    // and opens no session until a code is verified; our limits count the
    // codes (src/rate-limit.ts, RATE_LIMITS.twoFactorCode). Email codes
    // (`otp`) and "trust this device" are not offered (src/auth-routes.ts).
    twoFactor: twoFactor({
      issuer: relyingParty(config.baseURL, config.brand.appName).name,
      twoFactorCookieMaxAge: TWO_FACTOR_CHALLENGE_SECONDS,
      // Encrypted with BETTER_AUTH_SECRET: a read of the table yields no code.
      backupCodeOptions: { storeBackupCodes: 'encrypted', amount: BACKUP_CODE_COUNT, length: BACKUP_CODE_LENGTH },
    }),
  };
}

/** createAuth's options: what Better Auth is told, for the tests that check them (test/schema.test.ts). */
export function authOptions(config: AppConfig, db: Database, keys: KeySource, sendEmail: SendEmail, audit: AuditLog) {
  const mailOff = config.mail.kind === 'none';
  const trail = auditTrail(audit);
  const amr = sessionAmr();
  const rp = relyingParty(config.baseURL, config.brand.appName);
  const configured = pluginsOfConfig(config);
  return {
    appName: config.brand.appName,
    baseURL: config.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: config.secret,
    trustedOrigins: config.trustedOrigins,
    // One transaction per operation: a sign-up whose connection drops halfway
    // leaves no user without an account.
    database: drizzleAdapter(db, { provider: 'pg', schema, transaction: true }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      // Same scrypt as Better Auth, with the cost written into each hash so
      // that PASSWORD_HASH_PARAMS can change without breaking stored hashes.
      password: passwordHasher(config.passwordHash),
      requireEmailVerification: config.requireEmailVerification,
      resetPasswordTokenExpiresIn: PASSWORD_RESET_LINK_TTL_SECONDS,
      // Whoever resets the password is the account's owner from now on:
      // sessions opened with the old password (perhaps by someone else) end,
      // and so do the other reset links (src/credentials.ts).
      revokeSessionsOnPasswordReset: true,
      onPasswordReset: ({ user }) => afterPasswordReset(db, audit, user),
      // With REQUIRE_EMAIL_VERIFICATION, sign-up answers a taken address like
      // a new one (Better Auth's generic answer) and we tell the owner instead.
      onExistingUserSignUp: mailOff
        ? undefined
        : async ({ user }) =>
            sendEmail(
              existingAccountEmail(config.brand, config.baseURL, user.email, PASSWORD_RESET_LINK_TTL_SECONDS / 60),
            ),
      // Links point at our page, which posts the token to /reset-password;
      // Better Auth's own `url` would go through its redirect endpoint.
      // Without an email API there is no reset (Better Auth answers 400).
      sendResetPassword: mailOff
        ? undefined
        : async ({ user, token }) =>
            sendEmail(
              passwordResetEmail(config.brand, config.baseURL, user.email, token, PASSWORD_RESET_LINK_TTL_SECONDS / 60),
            ),
    },
    emailVerification: mailOff
      ? undefined
      : {
          sendOnSignUp: true,
          expiresIn: VERIFICATION_LINK_TTL_SECONDS,
          sendVerificationEmail: async ({ user, token }) =>
            sendEmail(
              verificationEmail(config.brand, config.baseURL, user.email, token, VERIFICATION_LINK_TTL_SECONDS / 60),
            ),
          afterEmailVerification: trail.emailVerified,
        },
    // Replaced by shared limits (src/rate-limit.ts): Better Auth's limiter
    // counts in isolate memory, which limits nothing across the fleet.
    rateLimit: { enabled: false },
    socialProviders: socialProvidersFor(config.oauthProviders, {
      requireEmailVerification: config.requireEmailVerification,
    }),
    // Who may create or join an account through a provider (src/oauth/account-policy.ts).
    user: { validateUserInfo: validateProviderUserInfo },
    // Reset-link tokens and OAuth states are stored as digests (src/credentials.ts).
    verification: { storeIdentifier: { hash: hashVerificationIdentifier } },
    databaseHooks: credentialHooks(db),
    account: {
      accountLinking: {
        // A provider sign-in joins an existing user with the same email only
        // when the provider says, on this sign-in, that it verified the email
        // (Google's email_verified, GitHub's and Discord's verified flags).
        // No provider is trusted by name.
        trustedProviders: [],
        // Better Auth's default, made explicit: never join a user whose own
        // email was never proven (a password sign-up). Otherwise whoever
        // registered an address first, with a password, would share the
        // account of its real owner signing in with Google.
        requireLocalEmailVerified: true,
      },
      // We only need who the user is; the provider tokens Better Auth keeps
      // are encrypted with BETTER_AUTH_SECRET rather than stored readable,
      // and the id_token is not kept at all (src/credentials.ts).
      encryptOAuthTokens: true,
    },
    telemetry: { enabled: false },
    // Better Auth still answers its own 4xx errors; anything unexpected (a
    // database fault, a bug) is thrown to app.onError, which maps it once.
    // Provider errors without an errorCallbackURL go to our login page, which
    // shows a sentence of ours for each code (never the provider's
    // error_description), under our page headers; Better Auth's own HTML
    // error page is turned off (src/auth-routes.ts).
    onAPIError: { throw: true, errorURL: `${config.baseURL}/login` },
    // Better Auth logs failed queries with their parameters (tokens, emails,
    // hashes) and errors as objects: keep one line with a bounded message.
    logger: { level: 'error', log: logBetterAuth },
    advanced: {
      database: {
        // A session read is one query (session joined with its user), not two.
        joins: true,
        // Better Auth compares the Drizzle schema with the tables and fields
        // it and its plugins expect. Both are code, fixed when the Worker is
        // built, yet with an instance per request it would compare them on
        // every request (7 % of a token's CPU in a local profile): the tests run
        // the comparison once instead (test/schema.test.ts).
        validateSchema: false,
      },
      // Cloudflare sets this header and clients cannot; X-Forwarded-For can be forged.
      ipAddress: { ipAddressHeaders: ['cf-connecting-ip'] },
    },
    plugins: [
      configured.bearer,
      jwt({
        // Keys are ours (src/jwt/): Better Auth builds the claims and calls
        // `sign`; the JWKS it would serve at remoteUrl is served by our route.
        jwks: { remoteUrl: `${config.baseURL}${AUTH_BASE_PATH}/jwks`, keyPairConfig: { alg: config.jwtAlg } },
        // No JWT minted on every session read: /api/auth/token is the one
        // place tokens come from, and session reads stay independent of keys.
        disableSettingJwtHeader: true,
        jwt: {
          issuer: config.baseURL,
          audience: config.jwtAudience,
          // A number would be taken as an absolute `exp`; a span is relative to `iat`.
          expirationTime: `${TOKEN_LIFETIME_SECONDS}s`,
          // A deliberate, small claim set: backends get identity, not the user row.
          // An impersonated session says so (RFC 8693's actor claim): `act.sub`
          // is the admin acting as the user.
          definePayload: ({ user, session }) => {
            const impersonatedBy = (session as { impersonatedBy?: string | null }).impersonatedBy;
            // How the user signed in (src/amr.ts), stored with the session: no query.
            const amrValues = amrClaim((session as { amr?: unknown }).amr);
            return {
              id: user.id,
              email: user.email,
              name: user.name,
              emailVerified: user.emailVerified,
              ...(amrValues ? { amr: amrValues } : {}),
              ...(impersonatedBy ? { act: { sub: impersonatedBy } } : {}),
            };
          },
          sign: (payload, header) => signWithCurrentKey(keys, payload, header),
        },
      }),
      providerCallGuard(),
      credentialRules(db),
      amr.plugin,
      passkeyNeedsVerifiedEmail(config.requireEmailVerification),
      // Before the admin plugin: its ban check refuses a sign-in the trail
      // has seen begin.
      trail.plugin,
      // Users, bans, roles and sessions for admins, at /api/auth/admin/*. Our
      // guard, limits and schemas sit in front of it (src/admin/routes.ts, the
      // route table); a ban deletes every session of the user and refuses new
      // ones with 403 BANNED_USER.
      admin({
        adminRoles: [ADMIN_ROLE],
        defaultRole: USER_ROLE,
        impersonationSessionDuration: IMPERSONATION_SESSION_SECONDS,
        bannedUserMessage: trail.bannedUserMessage(BANNED_MESSAGE),
      }),
      configured.twoFactor,
      // Passkeys at /api/auth/passkey/*, for the relying party BETTER_AUTH_URL names.
      passkey({
        rpID: rp.id,
        rpName: rp.name,
        origin: rp.origin,
        authentication: {
          afterVerification: async ({ verification }) =>
            amr.passkeyVerified({
              deviceType: verification.authenticationInfo.credentialDeviceType,
              userVerified: verification.authenticationInfo.userVerified,
            }),
        },
      }),
    ],
  } satisfies BetterAuthOptions;
}

export type Auth = ReturnType<typeof createAuth>;
