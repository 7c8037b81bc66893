// The security events we record, each with what it means. One table: the
// types accepted by the store and the API, and the meanings in
// docs/operations.md, come from here. A leaf module.

export const AUDIT_EVENTS = {
  sign_up: 'An account was created (method: email, or the provider).',
  sign_in:
    'A session was opened (method: email, email+totp, email+backup_code, passkey, or the provider). A password whose code is still to come opens none.',
  sign_in_failed:
    'A sign-in to this account was refused (reason: invalid_password, email_not_verified or banned); for addresses without an account nothing is recorded.',
  sign_out: 'A session was ended by signing out.',
  password_changed: 'The password was changed by someone signed in.',
  password_reset_requested: 'A reset link was sent to the account’s address.',
  password_reset: 'The password was set through a reset link; every session ended.',
  email_verified: 'The address was proven: the verification link, or a reset link, reached its inbox.',
  provider_linked: 'A sign-in provider was added to an existing account (method: the provider).',
  provider_unlinked:
    'A sign-in provider was removed (method: the provider); by the system when a reset removes links made before the address was proven.',
  two_factor_enabled: 'Two-factor (TOTP) was turned on: a first code confirmed the authenticator app.',
  two_factor_disabled: 'Two-factor was turned off, with the password.',
  passkey_added: 'A passkey was added (detail: its id and name).',
  passkey_removed: 'A passkey was removed (detail: its id).',
  session_revoked: 'One session was ended by its user (from another session) or by an admin; one event per session.',
  user_banned: 'An admin banned the user (detail: the reason and the end, if any); every session ended.',
  user_unbanned: 'The ban was lifted: by an admin, or by the system when its end passed (reason: ban_expired).',
  role_changed: 'The role changed (detail: the new role), by an admin or `npm run admin:grant`.',
  impersonation_started: 'An admin opened a session as the user (ADMIN_IMPERSONATION).',
  impersonation_stopped: 'The admin left the impersonated session.',
  rate_limited:
    'The account was locked by its per-account limit on password or code checks (reason: the limit); once per lock window.',
  signing_key_rotated: 'A new JWT signing key started signing (detail: the key ids).',
  signing_key_revoked: 'A signing key was removed at once with `npm run keys:rotate -- --revoke` (detail: its kid).',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENTS;
export const AUDIT_EVENT_TYPES = Object.keys(AUDIT_EVENTS) as [AuditEventType, ...AuditEventType[]];

/**
 * Who caused an event. `user`: a request that acted as the user, signed in as
 * them or naming their address (a failed sign-in is the user's as far as we
 * know; its network shows from where). `admin`: an admin, by id, also when
 * acting inside an impersonated session. `system`: this service on its own
 * (a lock, an expiry, a key rotation, an operator command).
 */
export type AuditActor = { type: 'user' } | { type: 'admin'; id: string } | { type: 'system' };

export const USER_ACTOR: AuditActor = { type: 'user' };
export const SYSTEM_ACTOR: AuditActor = { type: 'system' };

export interface AuditEvent {
  type: AuditEventType;
  /** The user it concerns; null for events about no user (signing keys). */
  userId: string | null;
  actor: AuditActor;
  method?: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

/** What a request tells about its client, reduced to what the log keeps (src/audit/client.ts). */
export interface RequestFacts {
  network: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** How long events are kept (AUDIT_RETENTION_DAYS), unless configured: a quarter covers most investigations. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
/** The longest AUDIT_RETENTION_DAYS accepted: ten years. */
export const MAX_AUDIT_RETENTION_DAYS = 3650;

export const NO_REQUEST: RequestFacts = { network: null, userAgent: null, requestId: null };
