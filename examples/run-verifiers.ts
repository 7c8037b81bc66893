// Runs the Node, Python and Go verifiers against a running auth Worker:
// a real token must pass; a tampered one, `alg: none`, an unknown kid, the
// wrong audience or issuer, and an expired one must each be rejected. With
// REQUIRE_MFA=1 a password-only token is rejected and one from a sign-in with
// a TOTP code passes.
//
//   npm run dev                       # in another terminal
//   npm run examples:verify           # AUTH_URL defaults to http://localhost:8787
//
// Needs Debian's python3-jwt python3-cryptography golang-go
// golang-gopkg-square-go-jose.v2-dev golang-github-coreos-go-oidc-dev.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, decodeJwt, decodeProtectedHeader } from 'jose';
import { totpCode } from '../test/totp';
import { createBackend } from './node/backend';

const AUTH_URL = (process.env.AUTH_URL ?? 'http://localhost:8787').replace(/\/$/, '');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const ROOT = new URL('..', import.meta.url).pathname;

const PASSWORD = 'verifier password 1';

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${AUTH_URL}/api/auth${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: AUTH_URL, ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path} failed: ${response.status} ${await response.text()}`);
  return response;
}

async function jwtFor(sessionToken: string): Promise<string> {
  const response = await fetch(`${AUTH_URL}/api/auth/token`, { headers: { authorization: `Bearer ${sessionToken}` } });
  if (!response.ok) throw new Error(`token failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** A password-only sign-up's JWT (amr: pwd), and its email and session token. */
async function issueToken() {
  const email = `verifier-${crypto.randomUUID()}@example.com`;
  const signUp = await post('/sign-up/email', { email, password: PASSWORD, name: 'Verifier' });
  const { token: sessionToken } = (await signUp.json()) as { token: string };
  return { email, sessionToken, token: await jwtFor(sessionToken) };
}

/** The JWT of a sign-in with the password and a TOTP code (amr: pwd otp mfa). */
async function issueMfaToken(): Promise<string> {
  const { email, sessionToken } = await issueToken();
  const bearer = { authorization: `Bearer ${sessionToken}` };
  const { totpURI } = (await (await post('/two-factor/enable', { password: PASSWORD }, bearer)).json()) as {
    totpURI: string;
  };
  await post('/two-factor/verify-totp', { code: await totpCode(totpURI) }, bearer);
  const signIn = await post('/sign-in/email', { email, password: PASSWORD });
  const challenge = signIn.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0] as string)
    .filter((cookie) => cookie.includes('two_factor='))
    .join('; ');
  const verified = await post('/two-factor/verify-totp', { code: await totpCode(totpURI) }, { cookie: challenge });
  return jwtFor(((await verified.json()) as { token: string }).token);
}

function buildGoVerifier(): string {
  const output = join(mkdtempSync(join(tmpdir(), 'verify-go-')), 'verify');
  const build = spawnSync('go', ['build', '-o', output, '.'], {
    cwd: join(ROOT, 'examples/go'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: process.env.GOPATH ?? '/usr/share/gocode' },
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`go build failed:\n${build.stderr}`);
  return output;
}

interface Case {
  name: string;
  token: string;
  env?: Record<string, string>;
  valid: boolean;
  /** What the rejection must be about, so a token refused for the wrong reason fails. */
  because?: RegExp;
}

function cases(token: string): Case[] {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = decodeJwt(token);
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const { kid } = decodeProtectedHeader(token);
  return [
    { name: 'valid token', token, valid: true },
    {
      name: 'tampered payload',
      token: `${header}.${encode({ ...claims, sub: 'someone-else' })}.${signature}`,
      valid: false,
      because: /signature/i,
    },
    { name: 'alg: none', token: `${encode({ alg: 'none', kid })}.${payload}.`, valid: false, because: /alg/i },
    {
      name: 'unknown kid',
      token: `${encode({ ...decodeProtectedHeader(token), kid: 'no-such-key' })}.${payload}.${signature}`,
      valid: false,
      because: /key|signature/i,
    },
    {
      name: 'wrong audience',
      token,
      env: { AUDIENCE: 'https://some-other-api.example' },
      valid: false,
      because: /aud/i,
    },
    {
      name: 'wrong issuer',
      token,
      env: { ISSUER: 'https://impostor.example', JWKS_URL: `${AUTH_URL}/api/auth/jwks` },
      valid: false,
      because: /iss/i,
    },
    { name: 'expired', token, env: { VERIFY_AT: String((claims.exp ?? 0) + 1) }, valid: false, because: /expire/i },
    {
      name: 'a password-only token where MFA is required',
      token,
      env: { REQUIRE_MFA: '1' },
      valid: false,
      because: /mfa/i,
    },
  ];
}

function mfaCases(mfaToken: string): Case[] {
  return [
    {
      name: 'a password and TOTP token where MFA is required',
      token: mfaToken,
      env: { REQUIRE_MFA: '1' },
      valid: true,
    },
  ];
}

async function main(): Promise<void> {
  const { token } = await issueToken();
  const mfaToken = await issueMfaToken();
  const verifiers: Record<string, string[]> = {
    node: [join(ROOT, 'node_modules/.bin/tsx'), join(ROOT, 'examples/node/verify.ts')],
    python: [PYTHON, join(ROOT, 'examples/python/verify.py')],
    go: [buildGoVerifier()],
  };

  let passed = 0;
  let failed = 0;
  const record = (ok: boolean, label: string, detail = '') => {
    ok ? passed++ : failed++;
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}${detail ? `  (${detail})` : ''}`);
  };

  for (const [language, [command, ...args]] of Object.entries(verifiers)) {
    for (const testCase of [...cases(token), ...mfaCases(mfaToken)]) {
      const run = spawnSync(command as string, [...args, testCase.token], {
        env: { ...process.env, ISSUER: AUTH_URL, AUDIENCE: AUTH_URL, ...testCase.env },
        encoding: 'utf8',
        timeout: 30_000,
      });
      const accepted = run.status === 0;
      const reason = accepted ? '' : (run.stderr.trim().split('\n').pop() ?? '');
      const rightReason = accepted || !testCase.because || testCase.because.test(reason);
      const label = `${language.padEnd(6)} ${testCase.valid ? 'accepts' : 'rejects'} ${testCase.name}`;
      record(accepted === testCase.valid && rightReason, label, reason);
    }
  }

  // The Hono middleware in examples/node/backend.ts, in process.
  const backend = createBackend({ issuer: AUTH_URL, audience: AUTH_URL });
  const [valid, tampered] = cases(token);
  const call = (headers: Record<string, string>) => backend.request('/orders', { headers });
  record(
    (await call({ authorization: `Bearer ${valid?.token}` })).status === 200,
    'hono   backend route accepts a valid token',
  );
  record(
    (await call({ authorization: `Bearer ${tampered?.token}` })).status === 401,
    'hono   backend route rejects a tampered token',
  );
  record((await call({})).status === 401, 'hono   backend route rejects a request without a token');
  const payouts = (bearer: string) => backend.request('/payouts', { headers: { authorization: `Bearer ${bearer}` } });
  record((await payouts(token)).status === 403, 'hono   MFA route refuses a password-only token (403 MFA_REQUIRED)');
  record((await payouts(mfaToken)).status === 200, 'hono   MFA route accepts a password and TOTP token');

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
