package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

var t0 = time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)

// call is one request the receiver got.
type call struct {
	header http.Header
	body   []byte
	verify error
}

// receiver is an httptest server that verifies signatures against the test
// clock and answers with the scripted status codes (the last one repeats).
type receiver struct {
	*httptest.Server
	secret []byte
	clock  func() time.Time
	mu     sync.Mutex
	codes  []int
	calls  []call
	got    chan struct{}
}

func newReceiver(t *testing.T, secret string, clock func() time.Time, codes ...int) *receiver {
	r := &receiver{secret: []byte(secret), clock: clock, codes: codes, got: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, call{header: req.Header.Clone(), body: body,
			verify: webhook.VerifyAt(r.secret, req.Header, body, time.Minute, r.clock())})
		code := r.codes[min(len(r.calls), len(r.codes))-1]
		r.mu.Unlock()
		if code >= 300 && code < 400 {
			http.Redirect(w, req, "/elsewhere", code)
		} else {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, http.StatusText(code)+"\x00\x01 from receiver")
		}
		r.got <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func setup(t *testing.T, st *store.Store, url, secret string, events ...string) (*store.Webhook, *models.Interview) {
	t.Helper()
	ctx := context.Background()
	w := &store.Webhook{URL: url, Secret: secret, Events: events, Active: true}
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	iv := &models.Interview{CandidateName: "C", CandidateEmail: "c@c.test", ScheduledAt: t0, TokenHash: []byte(webhook.NewEventID()), ExpiresAt: t0.Add(time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	return w, iv
}

func process(t *testing.T, w *webhook.Worker) int {
	t.Helper()
	n, err := w.ProcessDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliveryRetriedThenSucceeds(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	now := t0
	clock := func() time.Time { return now }
	rcv := newReceiver(t, "whsec_a", clock, http.StatusInternalServerError, http.StatusNoContent)
	hook, iv := setup(t, st, rcv.URL+"/hook", "whsec_a", webhook.EventVerdictStored)

	evID, n, err := webhook.Publish(ctx, st, webhook.EventVerdictStored, iv.ID,
		webhook.VerdictStored{InterviewID: iv.ID, Score: 72, Decision: "review", Reasons: []string{"virtual camera in use"}, ScoringVersion: "risk-1"}, now)
	if err != nil || n != 1 || !strings.HasPrefix(evID, "evt_") {
		t.Fatalf("publish: %q %d %v", evID, n, err)
	}
	w := webhook.NewWorker(st, webhook.Options{Client: webhook.NewClient(5*time.Second, true), Now: clock})

	if got := process(t, w); got != 1 {
		t.Fatalf("first round handled %d", got)
	}
	ds, _ := st.WebhookDeliveries(ctx, hook.ID, 10)
	if len(ds) != 1 || ds[0].State != store.DeliveryPending || ds[0].Attempts != 1 || !ds[0].NextAttemptAt.Equal(t0.Add(30*time.Second)) ||
		*ds[0].LastStatus != 500 || ds[0].LastError != "HTTP 500" {
		t.Fatalf("after the 500: %+v", ds[0])
	}
	now = t0.Add(29 * time.Second)
	if got := process(t, w); got != 0 {
		t.Fatal("retried before its backoff")
	}
	now = t0.Add(31 * time.Second)
	if got := process(t, w); got != 1 {
		t.Fatal("not retried after its backoff")
	}
	d, _ := st.WebhookDelivery(ctx, ds[0].ID)
	if d.State != store.DeliverySucceeded || d.CompletedAt == nil || !d.CompletedAt.Equal(now) || *d.LastStatus != 204 || d.LastError != "" {
		t.Fatalf("after the retry: %+v", d)
	}

	calls := rcv.Calls()
	if len(calls) != 2 {
		t.Fatalf("receiver got %d calls", len(calls))
	}
	for i, c := range calls {
		if c.verify != nil {
			t.Errorf("call %d: signature does not verify: %v", i+1, c.verify)
		}
		if c.header.Get(webhook.HeaderEvent) != webhook.EventVerdictStored || c.header.Get(webhook.HeaderDelivery) != calls[0].header.Get(webhook.HeaderDelivery) ||
			c.header.Get("Content-Type") != "application/json" {
			t.Errorf("call %d headers: %v", i+1, c.header)
		}
		if string(c.body) != string(calls[0].body) {
			t.Errorf("the retry must send the same bytes")
		}
	}
	var env webhook.Envelope
	var data webhook.VerdictStored
	if err := json.Unmarshal(calls[1].body, &env); err != nil || json.Unmarshal(env.Data, &data) != nil ||
		env.ID != evID || env.Type != webhook.EventVerdictStored || data.InterviewID != iv.ID || data.Decision != "review" {
		t.Fatalf("body: %s", calls[1].body)
	}
	if calls[0].header.Get(webhook.HeaderTimestamp) == calls[1].header.Get(webhook.HeaderTimestamp) {
		t.Error("each attempt is signed at its own time")
	}

	log, err := st.WebhookAttempts(ctx, d.ID)
	if err != nil || len(log) != 2 {
		t.Fatalf("delivery log: %v %+v", err, log)
	}
	if log[0].Attempt != 1 || *log[0].StatusCode != 500 || log[0].Error != "HTTP 500" || !log[0].At.Equal(t0) ||
		log[0].Response != "Internal Server Error from receiver" || log[0].Duration < 0 {
		t.Errorf("attempt 1: %+v", log[0])
	}
	if log[1].Attempt != 2 || *log[1].StatusCode != 204 || log[1].Error != "" || !log[1].At.Equal(t0.Add(31*time.Second)) {
		t.Errorf("attempt 2: %+v", log[1])
	}
}

func TestDeliveryGivesUp(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	now := t0
	clock := func() time.Time { return now }
	rcv := newReceiver(t, "s", clock, http.StatusServiceUnavailable)
	hook, iv := setup(t, st, rcv.URL, "s", "*")
	if _, n, err := webhook.Publish(ctx, st, webhook.EventReviewDecided, iv.ID, webhook.ReviewDecided{InterviewID: iv.ID, Decision: "approve"}, now); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	w := webhook.NewWorker(st, webhook.Options{Client: webhook.NewClient(5*time.Second, true), Now: clock, MaxAttempts: 3})
	for i := 0; i < 3; i++ {
		if got := process(t, w); got != 1 {
			t.Fatalf("round %d handled %d", i+1, got)
		}
		now = now.Add(time.Hour)
	}
	if got := process(t, w); got != 0 {
		t.Fatal("retried past MaxAttempts")
	}
	ds, _ := st.WebhookDeliveries(ctx, hook.ID, 10)
	if ds[0].State != store.DeliveryFailed || ds[0].Attempts != 3 || ds[0].CompletedAt == nil {
		t.Fatalf("%+v", ds[0])
	}
	if log, _ := st.WebhookAttempts(ctx, ds[0].ID); len(log) != 3 || len(rcv.Calls()) != 3 {
		t.Fatalf("log %d rows, receiver %d calls", len(log), len(rcv.Calls()))
	}
	// An admin's redeliver gives it one more try.
	if err := st.RedeliverWebhook(ctx, ds[0].ID, now); err != nil {
		t.Fatal(err)
	}
	if got := process(t, w); got != 1 {
		t.Fatal("redelivered delivery not sent")
	}
	if d, _ := st.WebhookDelivery(ctx, ds[0].ID); d.State != store.DeliveryFailed || d.Attempts != 4 {
		t.Fatalf("after redeliver: %+v", d)
	}
}

func TestDeliveryRefusals(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	clock := func() time.Time { return t0 }
	t.Run("PrivateTarget", func(t *testing.T) {
		rcv := newReceiver(t, "s", clock, http.StatusOK)
		hook, iv := setup(t, st, rcv.URL, "s", webhook.EventPing)
		_, _, _ = webhook.Publish(ctx, st, webhook.EventPing, iv.ID, nil, t0)
		// The production client: 127.0.0.1 is refused after resolution.
		w := webhook.NewWorker(st, webhook.Options{Now: clock})
		process(t, w)
		if len(rcv.Calls()) != 0 {
			t.Fatal("the request reached a loopback receiver")
		}
		ds, _ := st.WebhookDeliveries(ctx, hook.ID, 1)
		log, _ := st.WebhookAttempts(ctx, ds[0].ID)
		if len(log) != 1 || log[0].StatusCode != nil || !strings.Contains(log[0].Error, "non-public") || strings.Contains(log[0].Error, "http://") {
			t.Fatalf("%+v", log)
		}
	})
	t.Run("Redirect", func(t *testing.T) {
		rcv := newReceiver(t, "s", clock, http.StatusFound)
		hook, iv := setup(t, st, rcv.URL, "s", webhook.EventPing)
		_, _, _ = webhook.Publish(ctx, st, webhook.EventPing, iv.ID, nil, t0)
		process(t, webhook.NewWorker(st, webhook.Options{Client: webhook.NewClient(5*time.Second, true), Now: clock}))
		if len(rcv.Calls()) != 1 {
			t.Fatalf("redirect followed: %d calls", len(rcv.Calls()))
		}
		ds, _ := st.WebhookDeliveries(ctx, hook.ID, 1)
		if ds[0].State != store.DeliveryPending || !strings.Contains(ds[0].LastError, "redirects are not followed") {
			t.Fatalf("%+v", ds[0])
		}
	})
}

// signalHandler is a slog handler that reports each recorded delivery.
type signalHandler struct {
	slog.Handler
	recorded chan string
}

func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "webhook delivery" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "state" {
				h.recorded <- a.Value.String()
			}
			return true
		})
	}
	return nil
}

// Deliveries are rows in Postgres: a worker started after they were queued
// (a restart) sends them, and two workers never send one twice.
func TestRunIsDurableAndShared(t *testing.T) {
	pool := pgtest.Schema(t)
	st := store.New(pool)
	ctx := context.Background()
	rcv := newReceiver(t, "s", time.Now, http.StatusOK)
	hook, iv := setup(t, st, rcv.URL, "s", "*")
	const events = 12
	for i := 0; i < events; i++ {
		if _, n, err := webhook.Publish(ctx, st, webhook.EventVerdictStored, iv.ID, map[string]int{"i": i}, time.Now()); err != nil || n != 1 {
			t.Fatal(n, err)
		}
	}
	recorded := make(chan string, 2*events)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		w := webhook.NewWorker(st, webhook.Options{Client: webhook.NewClient(5*time.Second, true), Batch: 3, PollInterval: time.Hour,
			Logger: slog.New(signalHandler{Handler: slog.NewTextHandler(io.Discard, nil), recorded: recorded})})
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(runCtx) }()
	}
	timeout := time.After(30 * time.Second)
	for i := 0; i < events; i++ {
		select {
		case state := <-recorded:
			if state != store.DeliverySucceeded {
				t.Fatalf("delivery ended %s", state)
			}
		case <-timeout:
			t.Fatalf("only %d of %d deliveries recorded", i, events)
		}
	}
	cancel()
	wg.Wait()
	seen := map[string]bool{}
	for _, c := range rcv.Calls() {
		id := c.header.Get(webhook.HeaderDelivery)
		if seen[id] {
			t.Fatalf("delivery %s sent twice", id)
		}
		seen[id] = true
	}
	ds, _ := st.WebhookDeliveries(ctx, hook.ID, 100)
	for _, d := range ds {
		if d.State != store.DeliverySucceeded || d.Attempts != 1 {
			t.Fatalf("%+v", d)
		}
	}
	if len(seen) != events || len(ds) != events {
		t.Fatalf("%d sent, %d stored, want %d", len(seen), len(ds), events)
	}
}
