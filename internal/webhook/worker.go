package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// ErrNonPublic is returned when a webhook would connect to a non-public address.
var ErrNonPublic = errors.New("webhook: refusing to connect to a non-public address")

// NewClient returns the HTTP client deliveries use: a per-attempt timeout, no
// redirects (a 3xx is a failed attempt, so a receiver cannot bounce requests
// to internal services), no environment proxy, and, unless allowPrivate, a
// dialer that refuses loopback, private, link-local and carrier-NAT addresses
// after DNS resolution (no SSRF into the server's network or the cloud
// metadata endpoint, even through DNS rebinding).
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrNonPublic, address)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Store is what the delivery worker needs from the database; *store.Store
// satisfies it.
type Store interface {
	BeginWebhookAttempt(ctx context.Context, deliveryID int64) (*store.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, a store.WebhookAttempt, outcome store.DeliveryOutcome) (stale bool, err error)
}

var _ Store = (*store.Store)(nil)

// MaxAttempts is how many times a delivery is tried before it is given up:
// about an hour of retries with the default backoff.
const MaxAttempts = 8

// DeliveryArgs is the River job that sends one delivery (a row of
// webhook_deliveries, which keeps the payload, the state shown to admins and
// the attempt log). Publish inserts it in the transaction of the event.
type DeliveryArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return "webhook_delivery" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeliveryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// Options configure a DeliveryWorker. Zero fields take the defaults shown.
type Options struct {
	Client      *http.Client     // NewClient(10s, false)
	Now         func() time.Time // time.Now: signing time and the attempt log
	Logger      *slog.Logger     // discard
	BaseBackoff time.Duration    // 30 s: the wait after the first failure
	MaxBackoff  time.Duration    // 1 h: the longest wait between attempts
	ParkFor     time.Duration    // 10 min: how long a disabled webhook's delivery waits before it looks again
}

// DeliveryWorker sends deliveries as River jobs: River gives each job to one
// node at a time, and retries a failed attempt after Backoff, up to
// MaxAttempts. Delivery is at least once: a node that dies after sending but
// before recording leaves the job to be rescued and sent again; receivers
// deduplicate on the event id.
type DeliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	st Store
	o  Options
}

// NewDeliveryWorker returns a worker on st; register it with
// river.AddWorker.
func NewDeliveryWorker(st Store, o Options) *DeliveryWorker {
	if o.Client == nil {
		o.Client = NewClient(10*time.Second, false)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.ParkFor <= 0 {
		o.ParkFor = 10 * time.Minute
	}
	return &DeliveryWorker{st: st, o: o}
}

// Backoff is the wait after failed attempt number attempt (1-based):
// base·2^(attempt−1), capped at max. With the defaults: 30 s, 1 min, 2 min,
// 4 min, 8 min, 16 min, 32 min — the eighth failure is final.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// NextRetry implements river.Worker: Backoff after the attempt's start (not
// before now: River rejects a retry time in the past).
func (w *DeliveryWorker) NextRetry(job *river.Job[DeliveryArgs]) time.Time {
	return w.retryAt(job)
}

func (w *DeliveryWorker) retryAt(job *river.Job[DeliveryArgs]) time.Time {
	now := time.Now()
	at := now
	if job.AttemptedAt != nil {
		at = *job.AttemptedAt
	}
	if next := at.Add(Backoff(job.Attempt, w.o.BaseBackoff, w.o.MaxBackoff)); next.After(now) {
		return next
	}
	return now
}

// Timeout implements river.Worker: the HTTP client's own timeout plus the
// database work around it.
func (w *DeliveryWorker) Timeout(*river.Job[DeliveryArgs]) time.Duration {
	return w.o.Client.Timeout + 30*time.Second
}

// Work makes one attempt of a delivery and records it. A failed attempt
// returns an error so that River retries it (or, after the last attempt,
// discards the job; the delivery is then recorded as failed).
func (w *DeliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	d, err := w.st.BeginWebhookAttempt(ctx, job.Args.DeliveryID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil // the webhook was deleted, or the delivery finished already
	case errors.Is(err, store.ErrWebhookInactive):
		return river.JobSnooze(w.o.ParkFor) // parked until the webhook is enabled again
	case err != nil:
		return err
	}
	r := w.send(ctx, d)
	if ctx.Err() != nil {
		return ctx.Err() // stopping: the attempt is retried; receivers deduplicate
	}
	outcome := store.DeliveryOutcome{State: store.DeliverySucceeded}
	var failure error
	if r.status == nil || *r.status < 200 || *r.status > 299 {
		failure = fmt.Errorf("webhook: delivery %d attempt %d: %s", d.ID, d.Attempts, r.err)
		if job.Attempt >= job.MaxAttempts {
			outcome.State = store.DeliveryFailed
		} else {
			outcome = store.DeliveryOutcome{State: store.DeliveryPending, NextAttempt: w.retryAt(job)}
		}
	}
	stale, err := w.st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: d.ID, Attempt: d.Attempts, At: r.at,
		StatusCode: r.status, Error: r.err, Duration: r.duration, Response: r.response}, outcome)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if outcome.State != store.DeliverySucceeded {
		level = slog.LevelWarn
	}
	w.o.Logger.Log(ctx, level, "webhook delivery", "delivery", d.ID, "webhook", d.WebhookID, "event", d.Event,
		"attempt", d.Attempts, "job", job.ID, "status", statusOf(r.status), "error", r.err, "state", outcome.State,
		"duration_ms", r.duration.Milliseconds(), "stale", stale)
	return failure
}

// result is one finished HTTP attempt.
type result struct {
	at       time.Time
	status   *int
	err      string
	duration time.Duration
	response string
}

func statusOf(s *int) int {
	if s == nil {
		return 0
	}
	return *s
}

// maxLoggedResponse bounds the response body kept in the delivery log.
const maxLoggedResponse = 512

func (w *DeliveryWorker) send(ctx context.Context, d *store.WebhookDelivery) result {
	r := result{at: w.o.Now()}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		r.err = "invalid URL"
		return r
	}
	SetHeaders(req.Header, []byte(d.Secret), r.at, d.Event, d.ID, body)
	req.Header.Set("User-Agent", "livecheck-webhook/1")
	start := time.Now()
	resp, err := w.o.Client.Do(req)
	r.duration = time.Since(start)
	if err != nil {
		r.err = transportError(err)
		return r
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	r.duration = time.Since(start)
	code := resp.StatusCode
	r.status = &code
	r.response = printable(snippet)
	if code < 200 || code > 299 {
		r.err = fmt.Sprintf("HTTP %d", code)
		if code >= 300 && code < 400 {
			r.err += " (redirects are not followed)"
		}
	}
	return r
}

// transportError describes a failed request without the URL, which may carry
// a receiver's token in its query string.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timeout"
	}
	return err.Error()
}

// printable keeps a response snippet safe for a text column and a log page.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "�")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r >= ' ' && r != 0x7f {
			return r
		}
		return -1
	}, s)
}
