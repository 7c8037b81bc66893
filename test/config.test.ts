import { describe, expect, it } from 'vitest';
import { callWorker, type EnvOverrides } from './helpers';

const cases: Array<{ variable: string; overrides: EnvOverrides; secretValue?: string }> = [
  { variable: 'DATABASE_URL', overrides: { DATABASE_URL: undefined } },
  {
    variable: 'DATABASE_URL',
    overrides: { DATABASE_URL: 'mysql://root:hunter2hunter2@db/app' },
    secretValue: 'hunter2hunter2',
  },
  { variable: 'BETTER_AUTH_SECRET', overrides: { BETTER_AUTH_SECRET: undefined } },
  {
    variable: 'BETTER_AUTH_SECRET',
    overrides: { BETTER_AUTH_SECRET: 'short-secret-123' },
    secretValue: 'short-secret-123',
  },
  {
    variable: 'BETTER_AUTH_SECRET',
    overrides: { BETTER_AUTH_SECRET: 'replace-me-with-the-output-of-openssl-rand-base64-32' },
    secretValue: 'replace-me-with',
  },
  { variable: 'BETTER_AUTH_URL', overrides: { BETTER_AUTH_URL: undefined } },
  { variable: 'BETTER_AUTH_URL', overrides: { BETTER_AUTH_URL: 'not a url' } },
  { variable: 'BETTER_AUTH_URL', overrides: { BETTER_AUTH_URL: 'http://auth.example.com' } },
  { variable: 'JWT_ALG', overrides: { JWT_ALG: 'HS256' } },
  { variable: 'TRUSTED_ORIGINS', overrides: { TRUSTED_ORIGINS: 'https://app.example.com, ftp://files' } },
  { variable: 'DATABASE_WS_PROXY', overrides: { DATABASE_WS_PROXY: 'not a host' } },
  { variable: 'DATABASE_WS_PROXY', overrides: { DATABASE_WS_PROXY: 'db.example.com:5432' } },
  { variable: 'DATABASE_WS_PROXY', overrides: { DATABASE_WS_PROXY: 'db.example.com:5432/secret' } },
  { variable: 'DATABASE_WS_PROXY', overrides: { DATABASE_WS_PROXY: '127.0.0.1:5432/../secret' } },
  { variable: 'DATABASE_HTTP_PROXY', overrides: { DATABASE_HTTP_PROXY: 'not a host' } },
  { variable: 'DATABASE_HTTP_PROXY', overrides: { DATABASE_HTTP_PROXY: 'db.example.com:443/secret' } },
  { variable: 'DATABASE_HTTP_PROXY', overrides: { DATABASE_HTTP_PROXY: 'https://127.0.0.1:4444/secret' } },
  { variable: 'DATABASE_HTTP_PROXY', overrides: { DATABASE_HTTP_PROXY: '127.0.0.1:4444/../secret' } },
  { variable: 'RATE_LIMITER', overrides: { RATE_LIMITER: undefined } },
  { variable: 'TOKEN_IP_LIMIT', overrides: { TOKEN_IP_LIMIT: undefined } },
  { variable: 'TOKEN_SESSION_LIMIT', overrides: { TOKEN_SESSION_LIMIT: undefined } },
  { variable: 'PASSWORD_HASH_PARAMS', overrides: { PASSWORD_HASH_PARAMS: 'N=16384' } },
  { variable: 'PASSWORD_HASH_PARAMS', overrides: { PASSWORD_HASH_PARAMS: 'N=10000,r=16,p=1' } },
  { variable: 'PASSWORD_HASH_PARAMS', overrides: { PASSWORD_HASH_PARAMS: 'N=1048576,r=16,p=1' } },
  // Query counts in a header are for local benchmarks only.
  { variable: 'BENCH_DATABASE_STATS', overrides: { BENCH_DATABASE_STATS: '1' } },
  { variable: 'BENCH_DATABASE_STATS', overrides: { BENCH_DATABASE_STATS: 'yes' } },
  // Outside localhost the dev mailer (it prints live links) is never used; requiring verification needs an API.
  { variable: 'RESEND_API_KEY', overrides: { RESEND_API_KEY: undefined, REQUIRE_EMAIL_VERIFICATION: 'true' } },
  {
    variable: 'RESEND_API_KEY',
    overrides: { RESEND_API_KEY: 'sk_live_not_a_resend_key_123' },
    secretValue: 'sk_live_not_a_resend_key_123',
  },
  { variable: 'EMAIL_FROM', overrides: { EMAIL_FROM: undefined } },
  { variable: 'EMAIL_FROM', overrides: { EMAIL_FROM: 'Evil <a@b.example>\r\nBcc: x@y.example' } },
  { variable: 'REQUIRE_EMAIL_VERIFICATION', overrides: { REQUIRE_EMAIL_VERIFICATION: 'yes' } },
  // Branding: the accent must keep white button text readable; the logo must come from our origin.
  { variable: 'ACCENT_COLOR', overrides: { ACCENT_COLOR: '#ffcc00' } },
  { variable: 'ACCENT_COLOR', overrides: { ACCENT_COLOR: 'blue' } },
  { variable: 'LOGO_URL', overrides: { LOGO_URL: 'https://evil.example/logo.png' } },
  { variable: 'LOGO_URL', overrides: { LOGO_URL: '//evil.example/logo.png' } },
  { variable: 'APP_NAME', overrides: { APP_NAME: 'Acme\r\nBcc: x@y.example' } },
  { variable: 'APP_NAME', overrides: { APP_NAME: 'A'.repeat(61) } },
  { variable: 'SUPPORT_URL', overrides: { SUPPORT_URL: 'javascript:alert(1)' } },
  { variable: 'SHOW_TOKEN_TOOL', overrides: { SHOW_TOKEN_TOOL: 'yes' } },
  // A provider is on with both of its variables, off with neither; one alone is a mistake.
  {
    variable: 'GOOGLE_CLIENT_SECRET',
    overrides: { GOOGLE_CLIENT_ID: 'id-only-123.apps.googleusercontent.com' },
    secretValue: 'id-only-123',
  },
  {
    variable: 'GITHUB_CLIENT_ID',
    overrides: { GITHUB_CLIENT_SECRET: 'github-secret-without-an-id' },
    secretValue: 'github-secret-without-an-id',
  },
  {
    variable: 'DISCORD_CLIENT_SECRET',
    overrides: { DISCORD_CLIENT_ID: '1234567890123456789', DISCORD_CLIENT_SECRET: '   ' },
    secretValue: '1234567890123456789',
  },
];

describe('misconfiguration', () => {
  it.each(cases)(
    '$variable: $overrides → 500 SERVER_MISCONFIGURED naming the variable',
    async ({ variable, overrides, secretValue }) => {
      const response = await callWorker('/api/auth/session', {}, overrides);
      expect(response.status).toBe(500);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.code).toBe('SERVER_MISCONFIGURED');
      expect(body.message).toContain(variable);
      if (secretValue) expect(body.message).not.toContain(secretValue);
    },
  );

  it('says how far an accent colour falls short of the contrast it needs', async () => {
    const response = await callWorker('/login', {}, { ACCENT_COLOR: '#ffcc00' });
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('SERVER_MISCONFIGURED');
    expect(body.message).toMatch(/ACCENT_COLOR #ffcc00 has a contrast of 1\.\d\d:1 .* at least 4\.5:1/);
  });

  it('does not need configuration for /health', async () => {
    const response = await callWorker('/health', {}, { BETTER_AUTH_SECRET: undefined, DATABASE_URL: undefined });
    expect(response.status).toBe(200);
  });
});
