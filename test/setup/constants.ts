/** Test-only values; nothing here is used outside the test suite. */
export const TEST_AUTH_URL = 'https://auth.test';
export const TEST_SECRET = 'test-only-secret-0123456789abcdefghijklmnop';
/** The fake Resend (test/fakes/email-api.ts) accepts only this key and sender. */
export const TEST_RESEND_API_KEY = 're_test_0123456789abcdef';
export const TEST_EMAIL_FROM = 'auth-worker tests <auth@auth.test>';
