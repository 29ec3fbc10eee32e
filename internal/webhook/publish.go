package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/livecheck/livecheck/internal/netguard"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// Event types.
const (
	EventVerdictStored = "verdict.stored" // a session's verdict was stored (data: VerdictStored)
	EventReviewDecided = "review.decided" // a reviewer decided on a session (data: ReviewDecided)
	EventPing          = "webhook.ping"   // an admin's test delivery (data: {})
	// EventInterviewDeclined: the candidate declined the analysis, so the call
	// will not happen unless they change their mind (data: InterviewDeclined).
	EventInterviewDeclined = "interview.declined"
)

// Events lists the event types a webhook can subscribe to ("*" is every type).
var Events = []string{EventVerdictStored, EventReviewDecided, EventInterviewDeclined, EventPing}

// InterviewDeclined is the data of an interview.declined event. Like the
// others it carries no candidate name or e-mail.
type InterviewDeclined struct {
	InterviewID int64     `json:"interview_id"`
	DeclinedAt  time.Time `json:"declined_at"`
	URL         string    `json:"url,omitempty"` // the interview's staff page
}

// Envelope is the JSON body of every delivery.
type Envelope struct {
	ID        string          `json:"id"`   // unique per event; receivers deduplicate on it
	Type      string          `json:"type"` // one of Events
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// VerdictStored is the data of a verdict.stored event. It carries no
// candidate name, e-mail or biometric data: receivers follow URL (staff login
// required) for details.
type VerdictStored struct {
	InterviewID    int64    `json:"interview_id"`
	Score          float64  `json:"score"`    // 0..100
	Decision       string   `json:"decision"` // verified | review | failed
	Reasons        []string `json:"reasons"`  // human-readable, most important first
	ScoringVersion string   `json:"scoring_version"`
	URL            string   `json:"url,omitempty"` // the session's reviewer page
}

// ReviewDecided is the data of a review.decided event.
type ReviewDecided struct {
	InterviewID int64     `json:"interview_id"`
	Decision    string    `json:"decision"` // approve | reject | escalate
	Reviewer    string    `json:"reviewer"` // the reviewer's e-mail
	DecidedAt   time.Time `json:"decided_at"`
	URL         string    `json:"url,omitempty"`
}

// Tx is the transaction Publish writes in; a *store.Store inside InTx (made
// WithJobs) satisfies it.
type Tx interface {
	EnqueueWebhookEvent(ctx context.Context, ev store.WebhookEvent) ([]int64, error)
	InsertJobs(ctx context.Context, args ...store.JobArgs) error
}

var _ Tx = (*store.Store)(nil)

// NewEventID returns a random event id ("evt_" + 24 hex digits).
func NewEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// Publish wraps data in an Envelope and queues one delivery per subscribed
// webhook, each with the River job that sends it. Pass the transaction store
// that writes what the event announces (st.InTx(func(tx){ … Publish(ctx, tx,
// …) })) so that all of it commits together (a transactional outbox: no
// delivery for a change that rolled back, no change without its delivery).
// It returns the event id and the number of deliveries queued.
func Publish(ctx context.Context, tx Tx, typ string, interviewID int64, data any, now time.Time) (string, int, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return "", 0, fmt.Errorf("webhook: event data: %w", err)
	}
	if string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	env := Envelope{ID: NewEventID(), Type: typ, CreatedAt: now.UTC().Truncate(time.Millisecond), Data: raw}
	body, err := json.Marshal(env)
	if err != nil {
		return "", 0, fmt.Errorf("webhook: envelope: %w", err)
	}
	ids, err := tx.EnqueueWebhookEvent(ctx, store.WebhookEvent{ID: env.ID, Type: typ, InterviewID: interviewID, Payload: body, At: now})
	if err != nil {
		return "", 0, err
	}
	if err := tx.InsertJobs(ctx, deliveryJobs(ids)...); err != nil {
		return "", 0, fmt.Errorf("webhook: queue deliveries: %w", err)
	}
	return env.ID, len(ids), nil
}

func deliveryJobs(ids []int64) []store.JobArgs {
	jobs := make([]store.JobArgs, len(ids))
	for i, id := range ids {
		jobs[i] = DeliveryArgs{DeliveryID: id}
	}
	return jobs
}

// Redeliver gives a finished delivery one more attempt (an admin's "retry"):
// pending again, with a new job, in one transaction.
func Redeliver(ctx context.Context, st *store.Store, deliveryID int64, now time.Time) error {
	return st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RedeliverWebhook(ctx, deliveryID, now); err != nil {
			return err
		}
		return tx.InsertJobs(ctx, DeliveryArgs{DeliveryID: deliveryID})
	})
}

// NewSecret returns a fresh signing secret for a webhook ("whsec_" + 64 hex
// digits). Show it to the admin once; it is what receivers verify with.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// URLPolicy says which webhook URLs an admin may configure.
type URLPolicy struct {
	AllowHTTP    bool // plain http:// (default: https only)
	AllowPrivate bool // loopback, private, link-local and other non-public targets
}

// URLError says why a webhook URL is refused, in words for the admin; it wraps
// models.ErrInvalid.
type URLError struct{ Reason string }

// Error implements error.
func (e *URLError) Error() string { return "webhook: URL refused: " + e.Reason }

// Unwrap makes errors.Is(err, models.ErrInvalid) hold.
func (e *URLError) Unwrap() error { return models.ErrInvalid }

func badURL(reason string) error { return &URLError{Reason: reason} }

// ValidateURL checks an admin-supplied webhook URL: absolute, https (or http
// when allowed), a host, no user:password part (credentials in URLs end up in
// logs), and, unless allowed, not an IP literal in a non-public range. Host
// names are checked again at connection time, after DNS (see NewClient).
func ValidateURL(raw string, p URLPolicy) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return badURL("it cannot be read as a URL")
	}
	switch {
	case u.Scheme != "https" && !(p.AllowHTTP && u.Scheme == "http"):
		if p.AllowHTTP {
			return badURL("it must start with https:// or http://")
		}
		return badURL("it must start with https://")
	case u.Host == "" || u.Hostname() == "":
		return badURL("it has no host")
	case u.User != nil:
		return badURL("it must not contain a user name or password")
	case len(raw) > 2000:
		return badURL("it is too long")
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	if err != nil && netguard.HostEndsInNumber(host) {
		// "2130706433", "0x7f000001", "127.1": resolvers read these as IPv4
		// addresses; only the plain dotted form is judged (and accepted).
		return badURL("its host is a number: write an IP address in dotted form")
	}
	if err == nil && !p.AllowPrivate && !publicAddr(a) {
		return badURL("it points at a non-public address")
	}
	if name := strings.ToLower(strings.TrimRight(host, ".")); !p.AllowPrivate && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return badURL("it points at localhost")
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil && port == "0" {
		return badURL("port 0 cannot be used")
	}
	return nil
}

// publicAddr reports whether a is a globally reachable unicast address (not
// loopback, private, link-local — cloud metadata —, carrier NAT, NAT64, 6to4,
// benchmarking, multicast…): netguard.Public.
func publicAddr(a netip.Addr) bool { return netguard.Public(a) }
