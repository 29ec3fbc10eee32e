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
	"sync"
	"syscall"
	"time"

	"github.com/livecheck/livecheck/internal/store"
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

// Store is what the worker needs from the database; *store.Store satisfies it.
type Store interface {
	ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, a store.WebhookAttempt, outcome store.DeliveryOutcome) (stale bool, err error)
}

var _ Store = (*store.Store)(nil)

// Options configure a Worker. Zero fields take the defaults shown.
type Options struct {
	Client       *http.Client     // NewClient(10s, false)
	Now          func() time.Time // time.Now
	Logger       *slog.Logger     // discard
	MaxAttempts  int              // 8: ~1 h of retries with the default backoff
	BaseBackoff  time.Duration    // 30 s: the wait after the first failure
	MaxBackoff   time.Duration    // 1 h: the longest wait between attempts
	Lease        time.Duration    // 2 min: how long a claimed delivery is ours (> client timeout)
	Batch        int              // 16 deliveries claimed and sent concurrently per round
	PollInterval time.Duration    // 10 s between queue scans when not notified
}

// Worker sends due deliveries. Several workers (on several nodes) may run on
// one database: claims are leased with SKIP LOCKED. Delivery is at least once:
// a worker that dies after sending but before recording leaves the delivery
// to be sent again after its lease; receivers deduplicate on the event id.
type Worker struct {
	st   Store
	o    Options
	wake chan struct{}
}

// NewWorker returns a worker on st.
func NewWorker(st Store, o Options) *Worker {
	if o.Client == nil {
		o.Client = NewClient(10*time.Second, false)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	return &Worker{st: st, o: o, wake: make(chan struct{}, 1)}
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

// Notify wakes Run to look at the queue now (call it after committing a Publish).
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run processes the queue until ctx ends: at once, after every Notify, and
// every PollInterval. Errors are logged and retried on the next round.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.o.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := w.ProcessDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.o.Logger.Error("webhook: processing the queue failed", "err", err)
				}
				break
			}
			if n < w.o.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// result is one finished HTTP attempt.
type result struct {
	d        *store.WebhookDelivery
	at       time.Time
	status   *int
	err      string
	duration time.Duration
	response string
}

// ProcessDue claims the deliveries due now, sends them concurrently, records
// every attempt and returns how many it handled. Database work stays on the
// calling goroutine.
func (w *Worker) ProcessDue(ctx context.Context) (int, error) {
	due, err := w.st.ClaimWebhookDeliveries(ctx, w.o.Now(), w.o.Lease, w.o.Batch)
	if err != nil {
		return 0, err
	}
	results := make([]result, len(due))
	var wg sync.WaitGroup
	for i, d := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.send(ctx, d)
		}()
	}
	wg.Wait()
	for _, r := range results {
		if ctx.Err() != nil {
			return 0, ctx.Err() // unrecorded attempts are retried after their lease
		}
		outcome := store.DeliveryOutcome{State: store.DeliverySucceeded}
		if r.status == nil || *r.status < 200 || *r.status > 299 {
			if r.d.Attempts >= w.o.MaxAttempts {
				outcome.State = store.DeliveryFailed
			} else {
				outcome = store.DeliveryOutcome{State: store.DeliveryPending, NextAttempt: w.o.Now().Add(Backoff(r.d.Attempts, w.o.BaseBackoff, w.o.MaxBackoff))}
			}
		}
		stale, err := w.st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: r.d.ID, Attempt: r.d.Attempts, At: r.at,
			StatusCode: r.status, Error: r.err, Duration: r.duration, Response: r.response}, outcome)
		if err != nil {
			return 0, err
		}
		level := slog.LevelInfo
		if outcome.State != store.DeliverySucceeded {
			level = slog.LevelWarn
		}
		w.o.Logger.Log(ctx, level, "webhook delivery", "delivery", r.d.ID, "webhook", r.d.WebhookID, "event", r.d.Event,
			"attempt", r.d.Attempts, "status", statusOf(r.status), "error", r.err, "state", outcome.State,
			"duration_ms", r.duration.Milliseconds(), "stale", stale)
	}
	return len(due), nil
}

func statusOf(s *int) int {
	if s == nil {
		return 0
	}
	return *s
}

// maxLoggedResponse bounds the response body kept in the delivery log.
const maxLoggedResponse = 512

func (w *Worker) send(ctx context.Context, d *store.WebhookDelivery) result {
	r := result{d: d, at: w.o.Now()}
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
