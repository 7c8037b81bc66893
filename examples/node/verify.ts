// Usage: ISSUER=https://auth.example.com AUDIENCE=... tsx examples/node/verify.ts <token>
// Exits 0 and prints the claims when the token is valid, 1 otherwise.
// VERIFY_AT=<unix seconds> checks the token as of that time; REQUIRE_MFA=1
// accepts only a sign-in with two factors (amr has "mfa").
import { createVerifier } from './verifier';

const [token] = process.argv.slice(2);
const { ISSUER, AUDIENCE, JWKS_URL, VERIFY_AT, REQUIRE_MFA } = process.env;
if (!token || !ISSUER) {
  console.error('usage: ISSUER=<url> [AUDIENCE=<aud>] [JWKS_URL=<url>] verify.ts <token>');
  process.exit(2);
}

const verifyToken = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE ?? ISSUER,
  jwksUrl: JWKS_URL,
  requireMfa: REQUIRE_MFA === '1',
});
try {
  const claims = await verifyToken(token, VERIFY_AT ? new Date(Number(VERIFY_AT) * 1000) : undefined);
  console.log(JSON.stringify(claims));
} catch (error) {
  console.error(`rejected: ${(error as { code?: string }).code ?? 'ERROR'}: ${(error as Error).message}`);
  process.exit(1);
}
