// Calls to the JSON API on this origin. The sentences its error codes become
// are in the pages' catalog (src/pages/strings.ts), shared with the server.

import { errorView } from '../strings';

/** The body of an API error (ours and Better Auth's). */
export interface ApiError {
  code?: string;
  message?: unknown;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; retryAfter?: number }
  | { ok: false; status: number; data: ApiError | null; retryAfter?: number };

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
        const retryAfter = Number(response.headers.get('retry-after')) || undefined;
        return { ok: response.ok, status: response.status, data, retryAfter } as ApiResult<T>;
      }),
    (): ApiResult<T> => ({ ok: false, status: 0, data: { code: 'NETWORK' } }),
  );
}

/** The sentence for a failed call, as the server would put it on the page. */
export function readable(data: ApiError | null, retryAfter?: number): string {
  return errorView(data, retryAfter).text;
}
