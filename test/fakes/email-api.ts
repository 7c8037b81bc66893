// Resend's email API as the Worker sees it over the network: installed as
// globalThis.fetch in the test isolate (test/setup/email-api.ts) for
// api.resend.com only. It checks what the Worker sends the way Resend does
// (the API key, JSON, from/to/subject/content) and keeps what it accepted, so
// tests read the emails a user would receive.
import { TEST_EMAIL_FROM, TEST_RESEND_API_KEY } from '../setup/constants';

export interface SentEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The request as it arrived, for tests about headers. */
  headers: Headers;
}

export interface FakeEmailApi {
  sent: SentEmail[];
  /** Requests refused, with why. */
  rejections: string[];
  /** Answer the next request with this status instead (an outage). */
  failNext: number | undefined;
}

const RESEND_HOST = 'api.resend.com';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function refuse(api: FakeEmailApi, status: number, name: string, message: string): Response {
  api.rejections.push(message);
  return json({ statusCode: status, name, message }, status);
}

async function handle(api: FakeEmailApi, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== 'POST' || url.pathname !== '/emails') return refuse(api, 404, 'not_found', 'no such endpoint');
  if (request.headers.get('authorization') !== `Bearer ${TEST_RESEND_API_KEY}`) {
    return refuse(api, 401, 'validation_error', 'API key is invalid');
  }
  if (!request.headers.get('content-type')?.startsWith('application/json')) {
    return refuse(api, 422, 'validation_error', 'body must be JSON');
  }
  const failure = api.failNext;
  if (failure) {
    api.failNext = undefined;
    return refuse(api, failure, 'internal_server_error', 'outage');
  }
  const body = (await request.json()) as Partial<SentEmail>;
  if (body.from !== TEST_EMAIL_FROM) return refuse(api, 403, 'validation_error', 'from is not on a verified domain');
  if (!Array.isArray(body.to) || body.to.length !== 1 || typeof body.to[0] !== 'string') {
    return refuse(api, 422, 'validation_error', 'to must hold one address');
  }
  if (!body.subject || !body.text || !body.html) return refuse(api, 422, 'validation_error', 'missing content');
  api.sent.push({
    from: body.from,
    to: body.to,
    subject: body.subject,
    text: body.text,
    html: body.html,
    headers: request.headers,
  });
  return json({ id: crypto.randomUUID() });
}

const GLOBAL_KEY = Symbol.for('auth-worker.fake-email-api');

/** Installs the fake once per isolate and returns it; tests read and reset it. */
export function fakeEmailApi(): FakeEmailApi {
  const holder = globalThis as unknown as Record<symbol, FakeEmailApi | undefined>;
  const existing = holder[GLOBAL_KEY];
  if (existing) return existing;
  const api: FakeEmailApi = { sent: [], rejections: [], failNext: undefined };
  holder[GLOBAL_KEY] = api;
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function fakeEmailFetch(input, init) {
    const request = new Request(input, init);
    return new URL(request.url).host === RESEND_HOST ? handle(api, request) : realFetch(input, init);
  } as typeof fetch;
  return api;
}

/** The emails sent to one address, oldest first. */
export function emailsTo(address: string): SentEmail[] {
  return fakeEmailApi().sent.filter((email) => email.to.includes(address.toLowerCase()));
}

/** The token in the link of the latest email to `address` whose link goes to `page`. */
export function tokenFromLatestEmail(address: string, page: '/verify-email' | '/reset-password'): string {
  const emails = emailsTo(address).filter((email) => email.text.includes(page));
  const latest = emails.at(-1);
  if (!latest) throw new Error(`no ${page} email to ${address}`);
  const link = latest.text.match(/https?:\/\/\S+/)?.[0];
  if (!link) throw new Error('no link in the email');
  const url = new URL(link);
  const token = url.searchParams.get('token');
  if (url.pathname !== page || !token) throw new Error(`unexpected link ${link}`);
  return token;
}
