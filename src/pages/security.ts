import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../request-context';

// What every page and page asset is served with. The pages load nothing from
// other origins, run no inline script or style, cannot be framed, and send no
// Referer (a reset page's URL carries its token).
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

export const pageHeaders: MiddlewareHandler<AppEnv> = async function pageHeaders(c, next) {
  await next();
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) c.res.headers.set(name, value);
};

/** Where a page goes after signing in when no (acceptable) `redirect` is given. */
export const DEFAULT_REDIRECT = '/account';

/** Longest `redirect` parameter we follow (the API's callbackURL limit). */
export const MAX_REDIRECT_LENGTH = 2048;

/**
 * The `redirect` parameter, when it is safe to follow: a path on this Worker
 * (one leading `/`, so not `//evil.com` or `/\evil.com`, which browsers read
 * as another host) or a URL on a trusted origin. Anything else gives the
 * default, so the pages are never an open redirect.
 */
export function safeRedirect(value: string | undefined, trustedOrigins: readonly string[]): string {
  if (!value || value.length > MAX_REDIRECT_LENGTH) return DEFAULT_REDIRECT;
  // Browsers drop tabs and newlines from URLs and read `\` as `/`.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return DEFAULT_REDIRECT;
  if (value.startsWith('/')) return value.startsWith('//') ? DEFAULT_REDIRECT : value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return DEFAULT_REDIRECT;
  }
  if ((url.protocol === 'https:' || url.protocol === 'http:') && trustedOrigins.includes(url.origin)) return url.href;
  return DEFAULT_REDIRECT;
}
