// Calls to the JSON API on this origin, and the sentences its error codes
// become on the pages.

/** Sentences for the API's error codes; codes without one show the API's own message. */
export const MESSAGES: Record<string, string> = {
  INVALID_EMAIL_OR_PASSWORD: 'That email and password do not match an account.',
  USER_ALREADY_EXISTS: 'An account with this email already exists. Sign in instead.',
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: 'An account with this email already exists. Sign in instead.',
  EMAIL_NOT_VERIFIED: 'Verify your email first: open the link we sent you.',
  RATE_LIMITED: 'Too many attempts. Wait a little and try again.',
  INVALID_TOKEN: 'This link is invalid, already used or expired. Ask for a new one.',
  TOKEN_EXPIRED: 'This link has expired. Ask for a new one.',
  PASSWORD_TOO_SHORT: 'The password is too short.',
  PASSWORD_TOO_LONG: 'The password is too long.',
  DATABASE_UNAVAILABLE: 'We cannot reach our database right now. Try again in a few seconds.',
  INVALID_ORIGIN: 'This page may not call the API from here.',
  UNAUTHORIZED: 'Your session has ended. Sign in again.',
  NOT_ADMIN: 'This page is for admins only.',
  NETWORK: 'We could not reach the server. Check your connection and try again.',
};

/** The body of an API error (ours and Better Auth's). */
export interface ApiError {
  code?: string;
  message?: unknown;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; data: ApiError | null };

/** Answers with `{ ok: false, status: 0, data: { code: 'NETWORK' } }` when the server cannot be reached. */
export function api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  const init: RequestInit = { method, credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init).then(
    (response) =>
      response.text().then((text) => {
        let data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch {
          data = null;
        }
        return { ok: response.ok, status: response.status, data } as ApiResult<T>;
      }),
    (): ApiResult<T> => ({ ok: false, status: 0, data: { code: 'NETWORK' } }),
  );
}

export function readable(data: ApiError | null): string {
  const message = data?.code ? MESSAGES[data.code] : undefined;
  if (message) return message;
  if (data && typeof data.message === 'string' && data.message) return data.message;
  return 'Something went wrong. Try again.';
}
