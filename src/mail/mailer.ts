// How the Worker sends email. One interface, two implementations chosen by
// configuration (src/env.ts, readMailConfig): the Resend HTTP API in
// production, and in development a mailer that prints the message to the
// console. Sending never delays or changes an HTTP answer: it is handed to
// ctx.waitUntil, so a slow or failing email API cannot reveal whether an
// address has an account (request-password-reset answers the same either way).

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The link the message is about; the development mailer prints it. */
  link: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/** Resend's HTTP API: https://resend.com/docs/api-reference/emails/send-email */
export const RESEND_API_URL = 'https://api.resend.com/emails';

/** Longest we wait for the email API; sending runs after the response, in waitUntil. */
export const MAIL_API_TIMEOUT_MS = 10_000;

export type MailConfig =
  | { kind: 'resend'; apiKey: string; from: string }
  /** Development only: BETTER_AUTH_URL is on localhost. */
  | { kind: 'console' }
  /** Outside localhost without an email API: no verification or reset emails (src/auth.ts turns them off). */
  | { kind: 'none' };

export function createMailer(config: MailConfig): Mailer {
  if (config.kind === 'resend') return resendMailer(config.apiKey, config.from);
  if (config.kind === 'console') return consoleMailer();
  return {
    send: async () => {
      throw new Error('No email API is configured.');
    },
  };
}

function resendMailer(apiKey: string, from: string): Mailer {
  return {
    async send(message) {
      let status: number | undefined;
      try {
        const response = await fetch(RESEND_API_URL, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            from,
            to: [message.to],
            subject: message.subject,
            text: message.text,
            html: message.html,
          }),
          signal: AbortSignal.timeout(MAIL_API_TIMEOUT_MS),
        });
        status = response.status;
        // Drain the body so the connection is released.
        await response.arrayBuffer();
        if (response.ok) return;
      } catch (error) {
        // Neither the key nor the recipient is logged: only what failed.
        console.error(
          JSON.stringify({ level: 'error', event: 'mail_failed', provider: 'resend', error: (error as Error)?.name }),
        );
        return;
      }
      console.error(JSON.stringify({ level: 'error', event: 'mail_failed', provider: 'resend', status }));
    },
  };
}

/**
 * Prints the message's link for the developer to open. It carries a live
 * token, which is why this mailer is refused unless BETTER_AUTH_URL is on
 * localhost (src/env.ts): it never runs where the console is a production log.
 */
function consoleMailer(): Mailer {
  return {
    async send(message) {
      console.log(`[dev mailer] to=${message.to} subject="${message.subject}" link=${message.link}`);
    },
  };
}

/** Queues a message for after the response (ctx.waitUntil); never throws. */
export type SendEmail = (message: EmailMessage) => void;

/** How long the links in our emails work (Better Auth's defaults, made explicit). */
export const VERIFICATION_LINK_TTL_SECONDS = 60 * 60;
export const PASSWORD_RESET_LINK_TTL_SECONDS = 60 * 60;
