// Verify an auth-worker JWT in Go.
//
// Uses the Go JOSE libraries Debian packages: go-oidc's RemoteKeySet (fetches
// and caches the JWKS, refetches for an unknown kid) over square/go-jose v2.
// The reference docs use lestrrat-go/jwx, which Debian does not package.
//
// Usage: ISSUER=https://auth.example.com AUDIENCE=... verify <token>
// Exits 0 and prints the claims when the token is valid, 1 otherwise.
// VERIFY_AT=<unix seconds> checks the token as of that time; REQUIRE_MFA=1
// accepts only a sign-in with two factors (the amr claim holds "mfa").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	oidc "github.com/coreos/go-oidc"
	jose "gopkg.in/square/go-jose.v2"
	"gopkg.in/square/go-jose.v2/jwt"
)

// allowedAlgorithms: never "none", never a symmetric algorithm.
var allowedAlgorithms = map[jose.SignatureAlgorithm]bool{jose.EdDSA: true, jose.RS256: true}

type Verifier struct {
	keys     oidc.KeySet
	issuer   string
	audience string
}

func NewVerifier(ctx context.Context, issuer, audience, jwksURL string) *Verifier {
	return &Verifier{keys: oidc.NewRemoteKeySet(ctx, jwksURL), issuer: issuer, audience: audience}
}

type Claims struct {
	jwt.Claims
	Email         string `json:"email"`
	Name          string `json:"name"`
	EmailVerified bool   `json:"emailVerified"`
	// How the user signed in (RFC 8176): "pwd", "otp", "hwk", "swk", "mfa", "fed".
	Amr []string `json:"amr,omitempty"`
}

// HasMfa tells whether the user signed in with two factors.
func (c *Claims) HasMfa() bool {
	for _, method := range c.Amr {
		if method == "mfa" {
			return true
		}
	}
	return false
}

func (v *Verifier) Verify(ctx context.Context, token string, at time.Time) (*Claims, error) {
	parsed, err := jose.ParseSigned(token)
	if err != nil {
		return nil, fmt.Errorf("malformed token: %w", err)
	}
	if len(parsed.Signatures) != 1 || !allowedAlgorithms[jose.SignatureAlgorithm(parsed.Signatures[0].Header.Algorithm)] {
		return nil, errors.New("unexpected signing algorithm")
	}
	payload, err := v.keys.VerifySignature(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	var claims Claims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("bad claims: %w", err)
	}
	if claims.Subject == "" || claims.Expiry == nil || claims.IssuedAt == nil {
		return nil, errors.New("missing sub, exp or iat")
	}
	expected := jwt.Expected{Issuer: v.issuer, Audience: jwt.Audience{v.audience}, Time: at}
	if err := claims.ValidateWithLeeway(expected, 0); err != nil {
		return nil, err
	}
	return &claims, nil
}

func main() {
	issuer := os.Getenv("ISSUER")
	if len(os.Args) != 2 || issuer == "" {
		fmt.Fprintln(os.Stderr, "usage: ISSUER=<url> [AUDIENCE=<aud>] [JWKS_URL=<url>] verify <token>")
		os.Exit(2)
	}
	audience := os.Getenv("AUDIENCE")
	if audience == "" {
		audience = issuer
	}
	jwksURL := os.Getenv("JWKS_URL")
	if jwksURL == "" {
		jwksURL = issuer + "/api/auth/jwks"
	}
	at := time.Now()
	if s := os.Getenv("VERIFY_AT"); s != "" {
		seconds, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "VERIFY_AT must be unix seconds")
			os.Exit(2)
		}
		at = time.Unix(seconds, 0)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	claims, err := NewVerifier(ctx, issuer, audience, jwksURL).Verify(ctx, os.Args[1], at)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rejected: %v\n", err)
		os.Exit(1)
	}
	if os.Getenv("REQUIRE_MFA") == "1" && !claims.HasMfa() {
		fmt.Fprintln(os.Stderr, `rejected: mfa required: the amr claim has no "mfa"`)
		os.Exit(1)
	}
	out, _ := json.Marshal(claims)
	fmt.Println(string(out))
}
