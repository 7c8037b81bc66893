// Chromium for the browser tests: Debian's build (/usr/bin/chromium, or
// CHROMIUM_PATH) driven by playwright-core, which downloads no browser.
import { type BrowserContextOptions, chromium, type Page } from 'playwright-core';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless and quiet: no sandbox (containers), no QUIC, no traffic of the browser's own. */
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser whose contexts the test makes (one per person). */
export function launchChromium() {
  return chromium.launch({ executablePath, args });
}

/** One browser profile in `userDataDir`: Playwright wants a persistent profile as launchPersistentContext's argument. */
export function launchChromiumProfile(userDataDir: string, options: BrowserContextOptions) {
  return chromium.launchPersistentContext(userDataDir, { executablePath, args, ...options });
}

/**
 * A client address of the test's own. Locally every client shares the per-IP
 * rate limits (no edge sets cf-connecting-ip), and wrangler dev keeps them
 * across restarts: without this, a few runs within 15 minutes would exhaust
 * the 5 password-reset requests. Behind Cloudflare the edge overwrites it.
 */
export function testClientIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

/** The whole page, to test-results/screenshots/<label>.png (not committed; looked at by people). */
export async function screenshot(page: Page, label: string) {
  await page.screenshot({ path: `test-results/screenshots/${label}.png`, fullPage: true });
}
