import type { ContentfulStatusCode } from 'hono/utils/http-status';

// Every error this Worker answers with is JSON `{ code, message, requestId }`.
// Codes are stable UPPER_SNAKE strings that clients may branch on; messages
// are for people and never carry secrets, stack traces or driver internals.

export const ErrorCode = {
  SERVER_MISCONFIGURED: 'SERVER_MISCONFIGURED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INVALID_JSON: 'INVALID_JSON',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  PROVIDER_NOT_CONFIGURED: 'PROVIDER_NOT_CONFIGURED',
  KEYS_UNAVAILABLE: 'KEYS_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode;

  constructor(status: ContentfulStatusCode, code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
}

export function errorBody(code: string, message: string, requestId: string): ErrorBody {
  return { code, message, requestId };
}
