// The development mailer prints each email's link to the dev server's output
// (`[dev mailer] to=… subject="…" link=…`); the browser tests follow those
// links as a person would follow the email.
import { readFileSync } from 'node:fs';

/** The latest link printed for this address and subject, waiting up to 15 s for it. */
export async function mailedLink(devServerLog: string, email: string, subject: string): Promise<string> {
  const pattern = new RegExp(
    `\\[dev mailer\\] to=${email.replace(/[.+]/g, '\\$&')} subject="${subject}" link=(\\S+)`,
    'g',
  );
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const links = [...readFileSync(devServerLog, 'utf8').matchAll(pattern)].map((match) => match[1] ?? '');
    if (links.length > 0) return links.at(-1) ?? '';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no "${subject}" link for ${email} in ${devServerLog}`);
}
