import type { EmailMessage } from './mailer';

// The emails we send. Links point at our own pages (src/pages/), which call
// the JSON API; the token travels in the query string of a page that loads
// nothing from other origins and sends no Referer.

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function message(
  to: string,
  subject: string,
  intro: string,
  action: string,
  link: string,
  outro: string,
): EmailMessage {
  const text = `${intro}\n\n${action}: ${link}\n\n${outro}\n`;
  const html = `<p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p><p>${escapeHtml(outro)}</p>`;
  return { to, subject, text, html, link };
}

export function verificationEmail(baseURL: string, to: string, token: string, expiresInMinutes: number): EmailMessage {
  const link = `${baseURL}/verify-email?token=${encodeURIComponent(token)}`;
  return message(
    to,
    'Verify your email address',
    'Confirm that this address is yours to finish setting up your account.',
    'Verify email',
    link,
    `The link works for ${expiresInMinutes} minutes. If you did not sign up, ignore this email.`,
  );
}

export function passwordResetEmail(baseURL: string, to: string, token: string, expiresInMinutes: number): EmailMessage {
  const link = `${baseURL}/reset-password?token=${encodeURIComponent(token)}`;
  return message(
    to,
    'Reset your password',
    'Someone (hopefully you) asked to reset the password of your account.',
    'Choose a new password',
    link,
    `The link works once, for ${expiresInMinutes} minutes. If you did not ask, ignore this email: your password stays as it is.`,
  );
}

/**
 * Sent instead of an error when someone signs up with an address that has an
 * account (REQUIRE_EMAIL_VERIFICATION=true): the sign-up answer is the same
 * either way, and only the address's owner learns that the account exists.
 */
export function existingAccountEmail(baseURL: string, to: string): EmailMessage {
  return message(
    to,
    'Someone tried to create an account with your email',
    'Someone (perhaps you) tried to sign up with this address, which already has an account. No new account was created.',
    'Forgot your password? Reset it',
    `${baseURL}/forgot-password`,
    'If it was not you, ignore this email: nothing about your account changed.',
  );
}
