import type { Context } from 'hono';
import { AUTH_BASE_PATH } from '../paths';
import type { AppEnv } from '../request-context';

// A page's form post, sent on to the JSON API route that does the work, as a
// request through the app itself (c.var.subrequest: no network, same isolate).
// It goes through everything a browser's fetch would: the origin check, the
// body limit, the schema, the rate limits, Better Auth. So a form that works
// without JavaScript has exactly the API's rules, answers and budgets.

/**
 * The browser's headers the API's checks read: the Origin and Sec-Fetch-Site
 * (the origin check), the cookie (a session), the client address (per-IP
 * limits; at the edge Cloudflare sets it) and the user agent (the session's
 * device, the audit log).
 */
const FORWARDED_HEADERS = ['origin', 'sec-fetch-site', 'cookie', 'cf-connecting-ip', 'user-agent', 'accept-language'];

export interface ApiAnswer {
  status: number;
  ok: boolean;
  data: { code?: unknown; message?: unknown; [key: string]: unknown } | null;
  headers: Headers;
  /** Retry-After in seconds, when the API set it. */
  retryAfter: number | undefined;
}

/**
 * The Origin a page's form post is sent on with. The pages answer with
 * `Referrer-Policy: no-referrer` (a reset page's URL holds its token), and
 * under that policy Chromium sends a form post's Origin as the opaque `null`.
 * Its Sec-Fetch-Site, which a page cannot set, still says whether the post
 * came from this origin: then the post is our own page's, and goes on with
 * this origin, so that the API's origin check (and Better Auth's) sees what
 * the browser proved. Any other Origin, `null` from anywhere else included,
 * goes on as it came, and the API refuses it as it would refuse a fetch.
 */
function originOf(c: Context<AppEnv>): string | undefined {
  const origin = c.req.header('origin');
  if (origin === 'null' && c.req.header('sec-fetch-site') === 'same-origin') return new URL(c.req.url).origin;
  // The API lets a post without an Origin through as a server's: a foreign
  // page cannot send its application/json. A form post is what any page can
  // send, and every current browser gives it an Origin (`null` at least); one
  // without is a browser too old to tell us where it came from, and a foreign
  // page's post from it would pass (login CSRF). It goes on as `null`.
  if (origin === undefined && c.req.method === 'POST') return 'null';
  return origin;
}

/** Calls `/api/auth<path>` with the browser's request headers; `body` goes as JSON. */
export async function callAuthApi(
  c: Context<AppEnv>,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, unknown>,
): Promise<ApiAnswer> {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = name === 'origin' ? originOf(c) : c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  if (body) headers.set('content-type', 'application/json');
  const url = new URL(`${AUTH_BASE_PATH}${path}`, c.req.url);
  const response = await c.var.subrequest(
    new Request(url, { method, headers, body: body ? JSON.stringify(body) : undefined }),
  );
  const text = await response.text();
  let data: ApiAnswer['data'] = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    ok: response.ok,
    data: data && typeof data === 'object' ? data : null,
    headers: response.headers,
    retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  };
}

/** The session cookie(s) the API set, for the page's own answer (a 303 after signing in). */
export function copyCookies(from: ApiAnswer, to: Headers): void {
  for (const cookie of from.headers.getSetCookie()) to.append('set-cookie', cookie);
}
