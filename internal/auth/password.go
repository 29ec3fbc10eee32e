// Package auth holds staff passwords and sessions, signed candidate join tokens,
// CSRF tokens, login throttling and the role → permission table.
package auth

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password accepted for a staff account.
const MinPasswordLength = 10

// ErrWeakPassword is returned for passwords shorter than MinPasswordLength.
var ErrWeakPassword = fmt.Errorf("auth: password must have at least %d characters", MinPasswordLength)

// HashPassword hashes pw with bcrypt at cost.
func HashPassword(pw string, cost int) (string, error) {
	if len(pw) < MinPasswordLength {
		return "", ErrWeakPassword
	}
	if len(pw) > 72 {
		return "", errors.New("auth: password must have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the account does not exist, so that a
// login for an unknown e-mail takes as long as one for a known e-mail.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("livecheck-timing-equaliser"), bcrypt.DefaultCost)

// CheckPassword reports whether pw matches hash. An empty hash is checked
// against a dummy so that the timing does not reveal unknown accounts.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
