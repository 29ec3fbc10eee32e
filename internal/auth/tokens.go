package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Token sizes: a join token carries 144 random bits and a 96-bit signature.
const (
	joinRandomBytes = 18
	joinTagBytes    = 12
	sessionBytes    = 32
)

// ErrBadToken means a token is malformed or its signature does not verify.
var ErrBadToken = errors.New("auth: invalid token")

var b64 = base64.RawURLEncoding

// Signer signs and verifies candidate join tokens with the server secret.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for secret (at least 32 bytes).
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: signing secret must have at least 32 bytes")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("livecheck join token v1"))
	return &Signer{key: mac.Sum(nil)}, nil
}

func (s *Signer) tag(r []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write(r)
	return mac.Sum(nil)[:joinTagBytes]
}

// NewJoinToken returns a fresh signed token for a join link and the hash to store.
// Only the hash is kept in the database.
func (s *Signer) NewJoinToken() (token string, hash []byte, err error) {
	r := make([]byte, joinRandomBytes)
	if _, err := rand.Read(r); err != nil {
		return "", nil, fmt.Errorf("auth: random: %w", err)
	}
	token = b64.EncodeToString(append(r, s.tag(r)...))
	return token, HashToken(token), nil
}

// VerifyJoinToken checks the token's form and signature (no database access) and
// returns the hash to look up. Tampered and foreign tokens fail with ErrBadToken.
func (s *Signer) VerifyJoinToken(token string) ([]byte, error) {
	if len(token) != b64.EncodedLen(joinRandomBytes+joinTagBytes) {
		return nil, ErrBadToken
	}
	raw, err := b64.DecodeString(token)
	// The decoder skips CR and LF, so the decoded length must be checked too
	// (found by FuzzVerifyJoinToken: "%0A" in a link path caused a panic).
	if err != nil || len(raw) != joinRandomBytes+joinTagBytes {
		return nil, ErrBadToken
	}
	r, tag := raw[:joinRandomBytes], raw[joinRandomBytes:]
	if !hmac.Equal(tag, s.tag(r)) {
		return nil, ErrBadToken
	}
	return HashToken(token), nil
}

// NewSessionToken returns a random session cookie value and the hash to store.
func NewSessionToken() (token string, hash []byte, err error) {
	r := make([]byte, sessionBytes)
	if _, err := rand.Read(r); err != nil {
		return "", nil, fmt.Errorf("auth: random: %w", err)
	}
	token = b64.EncodeToString(r)
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 of a token, the only form stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CSRFToken derives the anti-forgery token bound to a browser's session or
// pre-login cookie value.
func (s *Signer) CSRFToken(binding string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("csrf\x00"))
	mac.Write([]byte(binding))
	return b64.EncodeToString(mac.Sum(nil)[:24])
}

// CheckCSRF reports whether got is the token for binding.
func (s *Signer) CheckCSRF(binding, got string) bool {
	if binding == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(s.CSRFToken(binding)))
}

// RandomString returns n random bytes, URL-safe base64 encoded.
func RandomString(n int) (string, error) {
	r := make([]byte, n)
	if _, err := rand.Read(r); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return b64.EncodeToString(r), nil
}
