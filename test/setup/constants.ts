/** Test-only values; nothing here is used outside the test suite. */
export const TEST_AUTH_URL = 'https://auth.test';
export const TEST_SECRET = 'test-only-secret-0123456789abcdefghijklmnop';
