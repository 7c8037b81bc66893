// How large what we accept may be. A leaf module: the schemas (src/input.ts),
// Better Auth's options (src/auth.ts) and the pages all read these, so the
// checks, the forms and the docs agree. Better Auth alone accepts a
// 5,000-character email or a 200 KB name; these keep rows small and reject
// nonsense with a clear 400.

/** Largest request body any /api/* endpoint reads. */
export const MAX_BODY_BYTES = 64 * 1024;
/** RFC 5321: a forward path is at most 256 octets including the angle brackets. */
export const MAX_EMAIL_LENGTH = 254;
export const MAX_NAME_LENGTH = 100;
/** Better Auth's defaults, made explicit so the docs and the checks agree. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;
export const MAX_URL_LENGTH = 2048;
export const MAX_TOKEN_LENGTH = 512;
/** Any other string field of an /api/auth body. */
export const MAX_STRING_LENGTH = 2048;
/** Ids we are sent (users, sessions): ours are 32 characters; anything far longer is not one. */
export const MAX_ID_LENGTH = 128;
/** An admin's note on why a user is banned. */
export const MAX_BAN_REASON_LENGTH = 500;
/** Longest ban with an end; without `banExpiresIn` a ban has no end. */
export const MAX_BAN_SECONDS = 10 * 365 * 24 * 60 * 60;
/** Items per page of a list (users, events) when the client does not say. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most items per page of a list: bounded rows and answers. */
export const MAX_PAGE_SIZE = 100;
/** Farthest offset into the user list: deeper pages are a search away. */
export const MAX_LIST_OFFSET = 100_000;
