package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// deviceMAC binds a device id to an account.
func (s *Signer) deviceMAC(acct, id string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("device\x00" + strings.ToLower(acct) + "\x00" + id))
	return b64.EncodeToString(mac.Sum(nil)[:18])
}

// DeviceToken returns the value of a cookie that marks a browser as one the
// account acct signed in from (a trusted source for the sign-in lockout).
func (s *Signer) DeviceToken(acct string) (string, error) {
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	id := b64.EncodeToString(r[:])
	return id + "." + s.deviceMAC(acct, id), nil
}

// DeviceID returns the device id of a cookie value made by DeviceToken for acct.
func (s *Signer) DeviceID(acct, token string) (string, bool) {
	id, mac, ok := strings.Cut(token, ".")
	if !ok || len(id) != 16 || !hmac.Equal([]byte(mac), []byte(s.deviceMAC(acct, id))) {
		return "", false
	}
	return id, true
}

func (s *Signer) unlockMAC(payload []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("unlock\x00"))
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// UnlockToken returns the token of an e-mailed sign-in link: it lets the
// account's owner mark the browser that opens it as trusted, until exp.
func (s *Signer) UnlockToken(userID int64, exp time.Time) string {
	p := binary.BigEndian.AppendUint64(nil, uint64(userID))
	p = binary.BigEndian.AppendUint64(p, uint64(exp.Unix()))
	return b64.EncodeToString(append(p, s.unlockMAC(p)...))
}

// VerifyUnlock returns the account of an unexpired token made by UnlockToken.
func (s *Signer) VerifyUnlock(token string, now time.Time) (int64, error) {
	raw, err := b64.DecodeString(token)
	if err != nil || len(raw) != 32 || !hmac.Equal(raw[16:], s.unlockMAC(raw[:16])) {
		return 0, ErrBadToken
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(raw[8:16])) {
		return 0, fmt.Errorf("%w: expired", ErrBadToken)
	}
	return int64(binary.BigEndian.Uint64(raw[:8])), nil
}
