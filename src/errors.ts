import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

// Every error this Worker answers with is JSON `{ code, message, requestId }`.
// Codes are stable UPPER_SNAKE strings that clients may branch on; messages
// are for people and never carry secrets, stack traces or driver internals.
// Better Auth's own errors keep their codes and gain the requestId.

export const ErrorCode = {
  SERVER_MISCONFIGURED: 'SERVER_MISCONFIGURED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_ADMIN: 'NOT_ADMIN',
  SESSION_NOT_FRESH: 'SESSION_NOT_FRESH',
  IMPERSONATED_SESSION: 'IMPERSONATED_SESSION',
  /** Better Auth's code for a wrong TOTP code; ours for one used already. */
  INVALID_CODE: 'INVALID_CODE',
  INVALID_ORIGIN: 'INVALID_ORIGIN',
  INVALID_JSON: 'INVALID_JSON',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  PROVIDER_NOT_CONFIGURED: 'PROVIDER_NOT_CONFIGURED',
  ID_TOKEN_SIGN_IN_DISABLED: 'ID_TOKEN_SIGN_IN_DISABLED',
  INVALID_NONCE: 'INVALID_NONCE',
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  MULTIPLE_SESSION_COOKIES: 'MULTIPLE_SESSION_COOKIES',
  KEYS_UNAVAILABLE: 'KEYS_UNAVAILABLE',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error and every `cause` under it: libraries wrap driver errors (Drizzle, pg-pool). */
export function* causeChain(error: unknown): Generator<object> {
  for (let cause = error; cause instanceof Object; cause = (cause as { cause?: unknown }).cause) yield cause;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: ErrorCode,
    message: string,
    options?: ErrorOptions & { headers?: Record<string, string> },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.headers = options?.headers ?? {};
  }
}

/**
 * Seconds a client should wait before retrying a 503 (database or signing keys
 * unavailable): short outages pass, and a recovering database is not hammered.
 */
const RETRY_AFTER_SECONDS = 5;

function unavailable(code: ErrorCode, message: string, cause: unknown): AppError {
  return new AppError(503, code, message, { cause, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } });
}

export function databaseUnavailable(cause?: unknown): AppError {
  return unavailable(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly.', cause);
}

export function keysUnavailable(cause?: unknown): AppError {
  return unavailable(
    ErrorCode.KEYS_UNAVAILABLE,
    'The signing keys cannot be read right now; try again shortly.',
    cause,
  );
}

function jsonError(status: number, code: string, message: string, requestId: string, headers?: HeadersInit): Response {
  const response = Response.json({ code, message, requestId }, { status, headers });
  response.headers.set('cache-control', 'no-store');
  response.headers.set('x-request-id', requestId);
  return response;
}

/** The one place an error becomes a response. */
export function toErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof AppError) {
    if (error.status >= 500) {
      console.error(JSON.stringify({ level: 'error', requestId, code: error.code, message: error.message }));
    }
    return jsonError(error.status, error.code, error.message, requestId, error.headers);
  }
  if (error instanceof HTTPException) {
    const code = STATUS_CODES[error.status] ?? 'BAD_REQUEST';
    return jsonError(error.status, code, error.message || 'Request refused.', requestId);
  }
  // Driver and ORM messages can quote SQL parameters (emails, hashes): log the
  // error's type only and answer without internals.
  console.error(JSON.stringify({ level: 'error', requestId, event: 'unhandled_error', error: (error as Error)?.name }));
  return jsonError(500, ErrorCode.INTERNAL_ERROR, 'Something went wrong on our side; try again.', requestId);
}

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMITED',
};

const STATUS_MESSAGES: Record<number, string> = {
  404: 'No such endpoint.',
  405: 'Method not allowed on this endpoint.',
};

/**
 * Gives a Better Auth error response our shape: its `code` (or one derived
 * from the status) and `message`, plus the requestId, as JSON even when
 * Better Auth sent no body. Headers such as Set-Cookie are kept; responses
 * under 400 pass through untouched.
 */
export async function withErrorShape(response: Response, requestId: string): Promise<Response> {
  if (response.status < 400) return response;
  const isJson = response.headers.get('content-type')?.includes('application/json');
  const body = (
    isJson
      ? await response
          .clone()
          .json()
          .catch(() => null)
      : null
  ) as {
    code?: unknown;
    message?: unknown;
  } | null;
  const code = typeof body?.code === 'string' && body.code ? body.code : (STATUS_CODES[response.status] ?? 'ERROR');
  const message =
    typeof body?.message === 'string' && body.message
      ? body.message
      : (STATUS_MESSAGES[response.status] ?? (response.statusText || code));
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.set('content-type', 'application/json');
  headers.set('x-request-id', requestId);
  return new Response(JSON.stringify({ code, message, requestId }), { status: response.status, headers });
}
