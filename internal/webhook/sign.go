// Package webhook delivers signed event notifications to admin-configured
// URLs: a durable Postgres outbox (store.EnqueueWebhookEvent) drained by a
// Worker with bounded exponential backoff and a per-attempt delivery log, and
// Verify for receivers.
//
// # Wire format
//
// Each delivery is an HTTP POST with Content-Type application/json and the body
//
//	{"id":"evt_…","type":"verdict.stored","created_at":"2030-01-02T10:00:00Z","data":{…}}
//
// and these headers:
//
//	X-Livecheck-Event:     the event type (verdict.stored, review.decided, interview.declined, webhook.ping)
//	X-Livecheck-Delivery:  the delivery id, the same on every retry (deduplicate on it or on the body's id)
//	X-Livecheck-Timestamp: Unix seconds when this attempt was signed
//	X-Livecheck-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A receiver recomputes the HMAC over the timestamp header, a dot and the raw
// body bytes, compares in constant time, and rejects timestamps more than a few
// minutes from its clock (replay protection): Verify does exactly that. The
// signature header may carry several comma-separated v1= values while a secret
// is being rotated; one match suffices.
//
// A 2xx answer is success. Anything else (including redirects, which are not
// followed) is retried after 30 s, 1 min, 2 min, … up to an hour apart, at most
// MaxAttempts times; then the delivery is marked failed and stays in the log.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	HeaderEvent     = "X-Livecheck-Event"
	HeaderDelivery  = "X-Livecheck-Delivery"
	HeaderTimestamp = "X-Livecheck-Timestamp"
	HeaderSignature = "X-Livecheck-Signature"
)

// signatureVersion prefixes every signature value.
const signatureVersion = "v1="

// DefaultTolerance is the clock skew Verify accepts by default.
const DefaultTolerance = 5 * time.Minute

// Verification errors.
var (
	ErrNoSignature  = errors.New("webhook: missing signature or timestamp header")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrTimestamp    = errors.New("webhook: timestamp outside the tolerance")
)

// Sign returns the signature header value for body signed at unix time ts:
// "v1=" + hex(HMAC-SHA256(secret, "<ts>.<body>")).
func Sign(secret []byte, ts int64, body []byte) string {
	return signatureVersion + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SetHeaders signs body at now and sets the signature, timestamp, event and
// delivery headers on h.
func SetHeaders(h http.Header, secret []byte, now time.Time, event string, deliveryID int64, body []byte) {
	ts := now.Unix()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderEvent, event)
	h.Set(HeaderDelivery, strconv.FormatInt(deliveryID, 10))
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Sign(secret, ts, body))
}

// Verify checks a received webhook: the signature over the timestamp header
// and the raw body, and a timestamp within tolerance of the receiver's clock
// (0 means DefaultTolerance). Read the body fully before calling it, and use
// the same bytes to decode the event.
func Verify(secret []byte, h http.Header, body []byte, tolerance time.Duration) error {
	return VerifyAt(secret, h, body, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given.
func VerifyAt(secret []byte, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	tsHeader, sigHeader := strings.TrimSpace(h.Get(HeaderTimestamp)), h.Get(HeaderSignature)
	if tsHeader == "" || sigHeader == "" {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp %q", ErrNoSignature, tsHeader)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, part := range strings.Split(sigHeader, ",") {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, signatureVersion) {
			continue
		}
		got, err := hex.DecodeString(strings.TrimPrefix(part, signatureVersion))
		if err == nil && hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return ErrBadSignature
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: %s", ErrTimestamp, skew.Round(time.Second))
	}
	return nil
}
