"""Verify an auth-worker JWT in Python with PyJWT.

Usage: ISSUER=https://auth.example.com AUDIENCE=... python3 verify.py <token>
Exits 0 and prints the claims when the token is valid, 1 otherwise.
VERIFY_AT=<unix seconds> checks the token as of that time; REQUIRE_MFA=1 accepts
only a sign-in with two factors (the amr claim holds "mfa").
Needs PyJWT >= 2.6 with cryptography (Debian: python3-jwt python3-cryptography).
"""

import json
import os
import sys

import jwt

ISSUER = os.environ.get("ISSUER")
AUDIENCE = os.environ.get("AUDIENCE") or ISSUER
JWKS_URL = os.environ.get("JWKS_URL") or f"{ISSUER}/api/auth/jwks"
REQUIRE_MFA = os.environ.get("REQUIRE_MFA") == "1"

# PyJWKClient caches the key set and fetches it again for an unknown kid.
jwks_client = jwt.PyJWKClient(JWKS_URL, cache_keys=True, lifespan=300)


def verify_token(token: str, at: float | None = None) -> dict:
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA", "RS256"],  # never "none", never a symmetric algorithm
        issuer=ISSUER,
        audience=AUDIENCE,
        # PyJWT checks exp against its own clock; with `at` we check it below.
        options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_exp": at is None},
    )
    if at is not None and claims["exp"] <= at:
        raise jwt.ExpiredSignatureError("Signature has expired")
    # How the user signed in (RFC 8176): "mfa" means two factors were used.
    if REQUIRE_MFA and "mfa" not in claims.get("amr", []):
        raise jwt.InvalidTokenError('mfa required: the amr claim has no "mfa"')
    return claims


def main() -> int:
    if len(sys.argv) != 2 or not ISSUER:
        print("usage: ISSUER=<url> [AUDIENCE=<aud>] [JWKS_URL=<url>] verify.py <token>", file=sys.stderr)
        return 2
    at = os.environ.get("VERIFY_AT")
    try:
        claims = verify_token(sys.argv[1], float(at) if at else None)
    except jwt.PyJWTError as error:
        print(f"rejected: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
