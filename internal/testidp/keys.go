package testidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// Signing algorithms of the provider's keys (RFC 7518 section 3.1).
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// signingKey is one key pair of the key set, published in the JWKS while
// it is in keys.
type signingKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// newKey makes a fresh key for alg, with a random key id.
func newKey(alg string) (*signingKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("testidp: unknown signing algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("testidp: generate %s key: %w", alg, err)
	}
	return &signingKey{kid: alg + "-" + randomString(6), alg: alg, priv: priv}, nil
}

// jwk is the public half of k as a JSON Web Key (RFC 7517 section 4, RFC
// 7518 section 6).
func (k *signingKey) jwk() map[string]string {
	m := map[string]string{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(pub.N.Bytes())
		m["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = "P-256"
		x, y := make([]byte, 32), make([]byte, 32)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		m["x"], m["y"] = b64(x), b64(y)
	}
	return m
}

// sign makes a compact JWS (RFC 7515 section 7.1) of claims, typed typ.
func (k *signingKey) sign(typ string, claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": k.alg, "kid": k.kid, "typ": typ})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch priv := k.priv.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	case *ecdsa.PrivateKey:
		// ES256 is R || S, each 32 octets (RFC 7518 section 3.4), not
		// ASN.1.
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, priv, sum[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	}
	if err != nil {
		return "", fmt.Errorf("testidp: sign: %w", err)
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomString is n random bytes as base64url: tokens, codes, key ids.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64(b)
}
