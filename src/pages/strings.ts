// Every sentence of the sign-in pages, in one catalog that the server (the
// pages, the answers to form posts) and the browser script (src/pages/client/)
// both import, so the same error reads the same either way. Each entry is a
// whole sentence with named {placeholders}, never one assembled from pieces:
// a translation replaces the catalog, not the code. Pure data and pure
// functions; this module imports nothing.

export const STRINGS = {
  documentTitle: '{page} · {app}',
  signInTitle: 'Sign in to {app}',
  signUpTitle: 'Create your {app} account',
  forgotTitle: 'Reset your password',
  checkEmailTitle: 'Check your email',
  resetTitle: 'Choose a new password',
  verifyTitle: 'Verify your email',
  accountTitle: 'Your account',
  adminTitle: 'Admin',

  emailLabel: 'Email',
  passwordLabel: 'Password',
  nameLabel: 'Name',
  newPasswordLabel: 'New password',
  confirmLabel: 'New password again',
  passwordHint: 'At least {min} characters.',

  signInButton: 'Sign in',
  signInBusy: 'Signing in…',
  signUpButton: 'Create account',
  signUpBusy: 'Creating your account…',
  forgotButton: 'Send the link',
  forgotBusy: 'Sending…',
  resetButton: 'Set the new password',
  resetBusy: 'Saving…',
  resendButton: 'Send the link again',
  resendBusy: 'Sending…',
  continueButton: 'Continue',

  forgotLink: 'Forgot your password?',
  signUpLink: 'Create an account',
  signInLink: 'I already have an account',
  backToSignIn: 'Back to sign in',
  signInInstead: 'Sign in instead',
  askNewLink: 'Ask for a new link',
  supportLink: 'Contact support',
  orDivider: 'or',
  continueWith: 'Continue with {provider}',

  forgotIntro: "Enter your account's email and we will send you a link to choose a new password.",
  forgotSent:
    'If an account exists for {email}, we sent it a link to choose a new password. The link works for {minutes} minutes. Nothing there? Check your spam folder, or send it again.',
  signUpSent: 'We sent a link to {email}. Open it to verify your email, then sign in.',
  resendSent: 'We sent a new link to {email}.',
  resetDone: 'Your password is changed, and every session of your account is signed out. Sign in with the new one.',
  signedOut: 'You are signed out.',
  continueAs: 'Continue as {name}',
  signedInAs: 'You are signed in as {email}.',
  useAnotherAccount: 'Use another account',
  linkIncomplete: 'This link is incomplete. Open the link from the email again, or ask for a new one.',
  verifyLinkIncomplete: 'This link is incomplete. Open the link from the email again, or sign in to send a new one.',
  verifyChecking: 'Checking your link…',
  verifyDone: 'Thank you: your email is verified.',

  required_email: 'Enter your email.',
  required_password: 'Enter your password.',
  required_name: 'Enter your name.',
  required_confirm: 'Enter the new password again.',
  invalidEmail: 'Enter a valid email address, like name@example.com.',
  tooShort_password: 'Password must be at least {min} characters.',
  tooLong_password: 'Password must be at most {max} characters.',
  tooLong_email: 'Email must be at most {max} characters.',
  tooLong_name: 'Name must be at most {max} characters.',
  passwordsDiffer: 'The two passwords are not the same.',

  INVALID_EMAIL_OR_PASSWORD: 'That email and password do not match an account.',
  USER_ALREADY_EXISTS: 'An account with this email already exists.',
  EMAIL_NOT_VERIFIED: 'Verify your email first: open the link we sent you.',
  RATE_LIMITED_SECONDS: 'Too many attempts. Try again in about a minute.',
  RATE_LIMITED_MINUTES: 'Too many attempts. Try again in about {minutes} minutes.',
  RATE_LIMITED_HOUR: 'Too many attempts. Try again in about an hour.',
  RATE_LIMITED_HOURS: 'Too many attempts. Try again in about {hours} hours.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  INVALID_TOKEN: 'This link is invalid, already used or expired.',
  TOKEN_EXPIRED: 'This link has expired.',
  DATABASE_UNAVAILABLE: 'We cannot reach our database right now. Try again in a few seconds.',
  INVALID_ORIGIN: 'This page may not be sent from another site.',
  UNAUTHORIZED: 'Your session has ended. Sign in again.',
  NOT_ADMIN: 'This page is for admins only.',
  BANNED_USER: 'This account is banned. Contact support if you think this is a mistake.',
  PAYLOAD_TOO_LARGE: 'That is more than this form takes. Shorten what you typed and try again.',
  NETWORK: 'We could not reach the server. Check your connection and try again.',
  GENERIC: 'Something went wrong. Try again.',

  provider_access_denied: 'Sign-in was cancelled at the provider.',
  provider_state_mismatch: 'That sign-in expired or was started in another browser. Try again.',
  provider_state_not_found: 'That sign-in expired or was started in another browser. Try again.',
  provider_invalid_code: 'The provider did not confirm the sign-in. Try again.',
  provider_unable_to_get_user_info: 'The provider did not tell us who you are. Try again.',
  provider_email_not_found: 'The provider did not share an email address.',
  provider_account_not_linked:
    'An account with this email already exists. Sign in with your password, then add the provider from your account.',
  provider_account_has_password:
    'This email has an account with a password. Sign in with it (or reset it), then add the provider from your account.',
  provider_email_not_verified_by_provider:
    'The provider has not verified this email address. Verify it there, or sign up with email and password.',
  provider_email_not_verified: 'Verify your email address first: follow the link we sent you, then sign in again.',
  provider_BANNED_USER: 'This account is banned. Contact support if you think this is a mistake.',
  provider_other: 'Sign-in failed. Try again.',

  profileName: 'Name',
  profileEmail: 'Email',
  verified: 'verified',
  notVerified: 'not verified',
  accountLoading: 'Loading your account…',
  accountNoScript: 'This page needs JavaScript to show your account. Turn it on, or use a browser that runs it.',
  unverifiedNotice: 'We sent a link to {email}. Open it to verify your email.',
  tokenHeading: 'Token for your backend',
  tokenHint: 'A developer tool: a JWT for this session, valid for {minutes} minutes, for your backend to verify.',
  tokenKeysLink: 'Our public keys (JWKS)',
  tokenLabel: 'Token',
  activityHeading: 'Recent security activity',
  activityHint: 'Sign-ins, password changes and other changes to your account, newest first.',
  activityMore: 'Show older activity',
  adminLink: 'Admin: users and the audit log',
  tokenButton: 'Get a fresh token',
  tokenBusy: 'Getting a token…',
  copyButton: 'Copy',
  copied: 'Copied',
  copyByHand: 'Select the token and copy it with your keyboard.',
  sessionsHeading: 'Where you are signed in',
  sessionThisDevice: '{device} · signed in {ago} · this device',
  sessionOther: '{device} · signed in {ago}',
  deviceBrowserOnOs: '{browser} on {os}',
  deviceUnknown: 'An unknown browser or app',
  justNow: 'just now',
  sessionSignOut: 'Sign out',
  sessionSignOutLabel: 'Sign out {device}, signed in {ago}',
  sessionSignedOut: 'That session is signed out.',
  revokeOthers: 'Sign out everywhere else',
  revokeOthersBusy: 'Signing out the others…',
  revokedOthers: 'Your other sessions are signed out.',
  signOut: 'Sign out',
  signOutBusy: 'Signing out…',
  busy: 'Working…',

  // Passkeys, two-factor and the password (src/pages/mfa.tsx, src/pages/client/).
  showPassword: 'Show password',
  hidePassword: 'Hide password',
  passkeySignIn: 'Sign in with a passkey',
  passkeyBusy: 'Waiting for your passkey…',
  passkeyUnavailable: 'This browser could not use a passkey here.',
  passkeyCreateUnavailable: 'This browser could not create a passkey here.',
  twoFactorIntro: 'Enter the 6-digit code from your authenticator app, or one of your backup codes.',
  codeLabel: 'Code',
  verifyButton: 'Verify',
  verifyBusy: 'Checking…',
  startOver: 'Start over',
  required_code: 'Enter the code from your authenticator app, or a backup code.',
  passkeysHeading: 'Passkeys',
  passkeysHint: 'Sign in with your fingerprint, face or device PIN instead of a password.',
  passkeyNameLabel: 'Name for the new passkey (optional)',
  passkeyAddButton: 'Add a passkey',
  passkeysNone: 'No passkeys yet.',
  passkeyLine: '{name} · added {ago}',
  passkeyDefaultName: 'Passkey',
  passkeyAdded: 'Passkey added. You can sign in with it now.',
  passkeyRemoved: 'Passkey removed.',
  passkeyRenamed: 'Passkey renamed.',
  passkeyRename: 'Rename',
  passkeyRenameLabel: 'Rename {name}',
  passkeyRemove: 'Remove',
  passkeyRemoveLabel: 'Remove {name}',
  passkeyNewName: 'New name',
  passkeySave: 'Save',
  twoFactorHeading: 'Two-factor authentication',
  twoFactorOn: 'On: signing in with your password also asks for a code from your authenticator app.',
  twoFactorOff: 'Off: your password alone signs you in.',
  twoFactorSetupHint:
    'After your password, sign-ins will ask for a code from an authenticator app (Google Authenticator, 1Password, Aegis and others).',
  yourPasswordLabel: 'Your password',
  twoFactorSetupButton: 'Set up two-factor',
  twoFactorScan: 'Scan this code with your authenticator app, or type the key below into it.',
  twoFactorQrLabel: 'QR code of your authenticator key',
  twoFactorKeyLabel: 'Key',
  backupCodesIntro:
    'Your {count} backup codes. Each works once, when your authenticator is not at hand. Keep them somewhere safe: they are shown only now.',
  confirmCodeLabel: 'Code from the app',
  twoFactorTurnOn: 'Turn on two-factor',
  twoFactorTurnOff: 'Turn off two-factor',
  twoFactorEnabled: 'Two-factor is on. The next sign-in will ask for a code.',
  twoFactorDisabled: 'Two-factor is off.',
  passwordHeading: 'Change your password',
  currentPasswordLabel: 'Current password',
  changePasswordHint: 'At least {min} characters. Your other sessions will be signed out.',
  changePasswordButton: 'Change password',
  passwordChanged: 'Your password is changed, and your other sessions are signed out.',
  enterBothPasswords: 'Enter your current password and a new one.',
  INVALID_PASSWORD: 'That is not your password.',
  INVALID_CODE: 'That code is not right. Check the app and try the current code.',
  INVALID_BACKUP_CODE: 'That backup code is not right, or was used already.',
  INVALID_TWO_FACTOR_COOKIE: 'This sign-in took too long. Start over with your password.',
  TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE: 'Too many wrong codes. Start over with your password.',
  ACCOUNT_TEMPORARILY_LOCKED: 'Too many wrong codes. Try again in about 15 minutes.',
  TOTP_ALREADY_ENABLED: 'Two-factor is on already.',
  AUTHENTICATION_FAILED: 'That passkey did not work. Try again, or sign in with your password.',
  PASSKEY_NOT_FOUND: 'This passkey is not registered with this account any more. Sign in with your password.',
  CHALLENGE_NOT_FOUND: 'That took too long. Try again.',
  FAILED_TO_VERIFY_REGISTRATION: 'The passkey could not be added. Try again.',
} as const;

export type StringKey = keyof typeof STRINGS;

/** An own key of `object` (not `constructor` or `__proto__`); the browser script's ES2020 has no Object.hasOwn. */
export function hasKey(object: object, key: string): boolean {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is ES2022; the script targets ES2020
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** The catalog's sentence for `key`, its {placeholders} replaced by `values`. */
export function t(key: StringKey, values: Record<string, string | number> = {}): string {
  return STRINGS[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    hasKey(values, name) ? String(values[name]) : whole,
  );
}

/** How an API error shows on a page: beside a field, or at the top, with what it offers next. */
export interface ErrorView {
  text: string;
  /** The id of the input it belongs to, when it belongs to one. */
  field?: string;
  /** Offer "Sign in instead" (the address has an account). */
  signInInstead?: true;
  /** Offer "Ask for a new link" (a used or expired emailed link). */
  newLink?: true;
  /** More fields' errors of the same answer (the API lists every invalid field). */
  others?: Array<{ field: string; text: string }>;
}

/** The inputs of our forms that the API's field names map to. */
const INPUT_OF_FIELD: Record<string, string> = {
  email: 'email',
  password: 'password',
  newPassword: 'password',
  name: 'name',
  code: 'code',
};

/** "Try again in about 15 minutes", from the Retry-After seconds. */
export function retryText(seconds: number | undefined): string {
  if (!seconds || !Number.isFinite(seconds) || seconds <= 0) return t('RATE_LIMITED');
  if (seconds <= 60) return t('RATE_LIMITED_SECONDS');
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return t('RATE_LIMITED_MINUTES', { minutes });
  const hours = Math.round(minutes / 60);
  return hours <= 1 ? t('RATE_LIMITED_HOUR') : t('RATE_LIMITED_HOURS', { hours });
}

/**
 * The catalog's sentence for a VALIDATION_ERROR of the API ("email must be a
 * valid email address"), tied to its input; undefined when it names no
 * field of ours.
 */
function validationView(message: string): ErrorView | undefined {
  const [, name = '', rest = ''] = message.match(/^(\w+) (.*)$/) ?? [];
  const field = INPUT_OF_FIELD[name];
  if (!field) return undefined;
  // A code that is not six digits (nor a backup code's shape) is a wrong code.
  if (field === 'code') return { field, text: rest === 'is required' ? t('required_code') : t('INVALID_CODE') };
  const number = Number(rest.match(/\d+/)?.[0]);
  const key = (prefix: string) => `${prefix}_${field}` as StringKey;
  if (rest === 'is required' && hasKey(STRINGS, key('required'))) return { field, text: t(key('required')) };
  if (rest === 'must be a valid email address') return { field, text: t('invalidEmail') };
  if (rest.startsWith('must be at least') && hasKey(STRINGS, key('tooShort'))) {
    return { field, text: t(key('tooShort'), { min: number }) };
  }
  if (rest.startsWith('must be at most') && hasKey(STRINGS, key('tooLong'))) {
    return { field, text: t(key('tooLong'), { max: number }) };
  }
  return { field, text: `${message.charAt(0).toUpperCase()}${message.slice(1)}.` };
}

/**
 * How an API error reads on our pages, the same in the browser script and in
 * the server's answer to a form post. `retryAfter`: the Retry-After seconds.
 */
export function errorView(
  data: { code?: unknown; message?: unknown } | null | undefined,
  retryAfter?: number,
): ErrorView {
  const code = typeof data?.code === 'string' ? data.code : '';
  const message = typeof data?.message === 'string' ? data.message : '';
  switch (code) {
    case 'VALIDATION_ERROR': {
      // "email is required; password is required": one sentence per field.
      const views = message.split('; ').map(validationView);
      const [first, ...rest] = views;
      if (!first || views.some((view) => !view)) return { text: message || t('GENERIC') };
      const others = (rest as ErrorView[]).map(({ field = '', text }) => ({ field, text }));
      return others.length ? { ...first, others } : first;
    }
    case 'INVALID_EMAIL_OR_PASSWORD':
      return { field: 'password', text: t('INVALID_EMAIL_OR_PASSWORD') };
    case 'USER_ALREADY_EXISTS':
    case 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL':
      return { field: 'email', text: t('USER_ALREADY_EXISTS'), signInInstead: true };
    case 'RATE_LIMITED':
      return { text: retryText(retryAfter) };
    case 'INVALID_TOKEN':
    case 'TOKEN_EXPIRED':
      return { text: t(code), newLink: true };
    case 'INVALID_CODE':
    case 'INVALID_BACKUP_CODE':
      return { field: 'code', text: t(code) };
    case 'INVALID_PASSWORD':
    case 'INVALID_TWO_FACTOR_COOKIE':
    case 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE':
    case 'ACCOUNT_TEMPORARILY_LOCKED':
    case 'TOTP_ALREADY_ENABLED':
    case 'AUTHENTICATION_FAILED':
    case 'PASSKEY_NOT_FOUND':
    case 'CHALLENGE_NOT_FOUND':
    case 'FAILED_TO_VERIFY_REGISTRATION':
    case 'EMAIL_NOT_VERIFIED':
    case 'DATABASE_UNAVAILABLE':
    case 'INVALID_ORIGIN':
    case 'UNAUTHORIZED':
    case 'NOT_ADMIN':
    case 'BANNED_USER':
    case 'PAYLOAD_TOO_LARGE':
    case 'NETWORK':
      return { text: t(code) };
    default:
      return { text: message || t('GENERIC') };
  }
}
