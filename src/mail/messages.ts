import type { EmailMessage } from './mailer';

// The emails we send, each with a plain-text part and a simple HTML part
// (one column, one button, the link also written out; inline styles only,
// which is what mail clients keep). Links point at our own pages
// (src/pages/), which call the JSON API; the token travels in the query
// string of a page that loads nothing from other origins and sends no Referer.
// Every sentence is in the catalog below, whole, with {placeholders}.

/** Who the emails are from, as the pages name it (src/config.ts: APP_NAME, SUPPORT_URL). */
export interface MailBrand {
  appName: string;
  supportUrl?: string;
}

const EMAIL_STRINGS = {
  verifySubject: 'Verify your email for {app}',
  verifyIntro: 'Confirm that {email} is yours to finish setting up your {app} account.',
  verifyAction: 'Verify email',
  verifyLifetime: 'The link works for {minutes} minutes.',
  verifyNotYou: 'If you did not sign up for {app}, ignore this email: no account is verified without it.',
  resetSubject: 'Reset your {app} password',
  resetIntro: 'Someone (hopefully you) asked to reset the password of your {app} account, {email}.',
  resetAction: 'Choose a new password',
  resetLifetime: 'The link works once, for {minutes} minutes.',
  resetNotYou: 'If you did not ask, ignore this email: your password stays as it is.',
  existingSubject: 'Someone tried to create an account for {app} with your email',
  existingIntro:
    'Someone (perhaps you) tried to sign up for {app} with {email}, which already has an account. No new account was created.',
  existingAction: 'Forgot your password? Reset it',
  existingLifetime: 'The page asks for your email and sends a reset link that works for {minutes} minutes.',
  existingNotYou: 'If it was not you, ignore this email: nothing about your account changed.',
  linkFallback: 'Or copy this link into your browser:',
  support: 'Questions? Contact support: {support}',
  footer: 'Sent by {app} because of a request for {email}.',
} as const;

type EmailKey = keyof typeof EMAIL_STRINGS;

function say(key: EmailKey, values: Record<string, string | number>): string {
  return EMAIL_STRINGS[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

interface MessageParts {
  subject: EmailKey;
  intro: EmailKey;
  action: EmailKey;
  lifetime: EmailKey;
  notYou: EmailKey;
}

function message(brand: MailBrand, to: string, parts: MessageParts, link: string, minutes: number): EmailMessage {
  const values = { app: brand.appName, email: to, minutes, support: brand.supportUrl ?? '' };
  const [subject, intro, action, lifetime, notYou] = [
    parts.subject,
    parts.intro,
    parts.action,
    parts.lifetime,
    parts.notYou,
  ].map((key) => say(key, values)) as [string, string, string, string, string];
  const support = brand.supportUrl ? say('support', values) : '';
  const footer = say('footer', values);
  const text = [
    brand.appName,
    '',
    intro,
    '',
    `${action}:`,
    link,
    '',
    lifetime,
    notYou,
    ...(support ? ['', support] : []),
    '',
    '--',
    footer,
    '',
  ].join('\n');
  const e = escapeHtml;
  const paragraph = (content: string, style = '') =>
    `<p style="margin:0 0 16px;font-size:16px;line-height:1.5;${style}">${content}</p>`;
  const html = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f4f6f8;color:#1b1f24;font-family:system-ui,-apple-system,\'Segoe UI\',Roboto,sans-serif">',
    '<div style="max-width:480px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:12px;padding:24px">',
    `<p style="margin:0 0 16px;font-size:18px;font-weight:700">${e(brand.appName)}</p>`,
    paragraph(e(intro)),
    `<p style="margin:0 0 16px"><a href="${e(link)}" style="display:inline-block;background:#1f5fbf;color:#ffffff;font-weight:600;text-decoration:none;padding:12px 20px;border-radius:8px">${e(action)}</a></p>`,
    paragraph(
      `${e(say('linkFallback', values))}<br><a href="${e(link)}" style="color:#1f5fbf;word-break:break-all">${e(link)}</a>`,
      'font-size:14px;color:#57606a',
    ),
    paragraph(`${e(lifetime)} ${e(notYou)}`),
    support ? paragraph(e(support), 'font-size:14px;color:#57606a') : '',
    `<p style="margin:16px 0 0;font-size:12px;color:#57606a">${e(footer)}</p>`,
    '</div></body></html>',
  ].join('');
  return { to, subject, text, html, link };
}

export function verificationEmail(
  brand: MailBrand,
  baseURL: string,
  to: string,
  token: string,
  expiresInMinutes: number,
): EmailMessage {
  const link = `${baseURL}/verify-email?token=${encodeURIComponent(token)}`;
  return message(
    brand,
    to,
    {
      subject: 'verifySubject',
      intro: 'verifyIntro',
      action: 'verifyAction',
      lifetime: 'verifyLifetime',
      notYou: 'verifyNotYou',
    },
    link,
    expiresInMinutes,
  );
}

export function passwordResetEmail(
  brand: MailBrand,
  baseURL: string,
  to: string,
  token: string,
  expiresInMinutes: number,
): EmailMessage {
  const link = `${baseURL}/reset-password?token=${encodeURIComponent(token)}`;
  return message(
    brand,
    to,
    {
      subject: 'resetSubject',
      intro: 'resetIntro',
      action: 'resetAction',
      lifetime: 'resetLifetime',
      notYou: 'resetNotYou',
    },
    link,
    expiresInMinutes,
  );
}

/**
 * Sent instead of an error when someone signs up with an address that has an
 * account (REQUIRE_EMAIL_VERIFICATION=true): the sign-up answer is the same
 * either way, and only the address's owner learns that the account exists.
 */
export function existingAccountEmail(
  brand: MailBrand,
  baseURL: string,
  to: string,
  resetLinkMinutes: number,
): EmailMessage {
  return message(
    brand,
    to,
    {
      subject: 'existingSubject',
      intro: 'existingIntro',
      action: 'existingAction',
      lifetime: 'existingLifetime',
      notYou: 'existingNotYou',
    },
    `${baseURL}/forgot-password?email=${encodeURIComponent(to)}`,
    resetLinkMinutes,
  );
}
