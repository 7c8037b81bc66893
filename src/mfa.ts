// The second factors' settings in one place (docs/passkeys-and-two-factor.md
// says what each means for users). A leaf module: Better Auth's options, the
// route table and the pages read these.

/** How long the code step after a password may take: the pending sign-in's cookie and row. */
export const TWO_FACTOR_CHALLENGE_SECONDS = 5 * 60;

/** Backup codes handed out when two-factor is turned on (or the codes renewed); each works once. */
export const BACKUP_CODE_COUNT = 10;
/** Characters of each backup code (letters and digits, shown as two groups of five). */
export const BACKUP_CODE_LENGTH = 10;

/** A TOTP code: six digits (RFC 6238 with Better Auth's defaults: SHA-1, 30 seconds). */
export const TOTP_DIGITS = 6;

/** The most a code field takes (a TOTP code with spaces, or a backup code): no body carries more. */
export const MAX_CODE_INPUT_LENGTH = 32;

/**
 * How long a TOTP code that was accepted stays refused (RFC 6238 §5.2: the
 * same code must not pass twice). Better Auth accepts the current 30-second
 * step and its neighbours, so a code can pass for up to 90 seconds.
 */
export const TOTP_REUSE_WINDOW_MS = 3 * 30 * 1000;

/**
 * Adding a passkey needs a sign-in this recent (like an admin's role change):
 * a passkey outlives the session that added it, so an old, perhaps stolen,
 * session must not add one.
 */
export const PASSKEY_RECENT_SIGN_IN_MS = 15 * 60 * 1000;

/** Longest label a user may give a passkey. */
export const MAX_PASSKEY_NAME_LENGTH = 100;

/**
 * The WebAuthn relying party: BETTER_AUTH_URL's host name is the RP ID and
 * its origin the only origin a passkey ceremony may come from. A passkey
 * made for one RP ID works nowhere else: moving from `*.workers.dev` to a
 * custom domain leaves the old passkeys behind. `name` (APP_NAME) is what
 * password managers and authenticator apps show beside the account.
 */
export function relyingParty(baseURL: string, appName: string) {
  const url = new URL(baseURL);
  return { id: url.hostname, origin: url.origin, name: appName };
}

/**
 * Whether what the user typed in the code step is a TOTP code (six digits,
 * perhaps spaced as apps show them) rather than a backup code (ten letters
 * and digits with a dash): one field takes either.
 */
export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code.replace(/[\s-]/g, ''));
}
