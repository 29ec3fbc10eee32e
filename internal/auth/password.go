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

// Passwords checks staff passwords at the configured bcrypt cost. A sign-in
// for an unknown e-mail is compared against a dummy hash of the same cost, so
// that the time an answer takes does not reveal whether the account exists.
type Passwords struct {
	cost  int
	dummy []byte
}

// NewPasswords returns a checker for hashes of cost (bcrypt.MinCost..MaxCost).
func NewPasswords(cost int) (*Passwords, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("livecheck-timing-equaliser"), cost)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	return &Passwords{cost: cost, dummy: dummy}, nil
}

// Hash hashes pw at the configured cost.
func (p *Passwords) Hash(pw string) (string, error) { return HashPassword(pw, p.cost) }

// Check reports whether pw matches hash and the bcrypt cost of the comparison
// it made. An empty or unreadable hash (no such account) is compared against
// the dummy, at the configured cost, and never matches.
func (p *Passwords) Check(hash, pw string) (ok bool, cost int) {
	if c, err := bcrypt.Cost([]byte(hash)); err == nil {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil, c
	}
	_ = bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
	return false, p.cost
}

// Stale reports whether hash was made at another cost than the configured
// one: such accounts answer faster or slower than unknown ones, so their hash
// is renewed at the next successful sign-in.
func (p *Passwords) Stale(hash string) bool {
	c, err := bcrypt.Cost([]byte(hash))
	return err == nil && c != p.cost
}
