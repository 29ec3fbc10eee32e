package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/jobs/jobstest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// call is one request the receiver got.
type call struct {
	header http.Header
	body   []byte
	verify error
}

// receiver is an httptest server that verifies signatures and answers with
// the scripted status codes (the last one repeats).
type receiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	codes  []int
	calls  []call
}

func newReceiver(t *testing.T, secret string, codes ...int) *receiver {
	r := &receiver{secret: []byte(secret), codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, call{header: req.Header.Clone(), body: body,
			verify: webhook.Verify(r.secret, req.Header, body, time.Minute)})
		code := r.codes[min(len(r.calls), len(r.codes))-1]
		r.mu.Unlock()
		if code >= 300 && code < 400 {
			http.Redirect(w, req, "/elsewhere", code)
		} else {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, http.StatusText(code)+"\x00\x01 from receiver")
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// node starts a River client ("a node") working webhook deliveries on its
// own pool on the database of url, and returns it with a store that
// publishes through it.
func node(t *testing.T, url, id string, o webhook.Options) (*store.Store, *jobs.Queue) {
	t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // after the client has stopped: cleanups run last-in first-out
	st := store.New(pool)
	workers := river.NewWorkers()
	if o.Client == nil {
		o.Client = webhook.NewClient(5*time.Second, true)
	}
	if o.BaseBackoff == 0 {
		o.BaseBackoff = time.Millisecond // retries at once: the test waits on states, not on time
	}
	river.AddWorker(workers, webhook.NewDeliveryWorker(st, o))
	q := jobstest.Start(t, pool, id, workers)
	return st.WithJobs(q), q
}

func setup(t *testing.T, st *store.Store, url, secret string, events ...string) (*store.Webhook, *models.Interview) {
	t.Helper()
	ctx := context.Background()
	w := &store.Webhook{URL: url, Secret: secret, Events: events, Active: true}
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	iv := &models.Interview{CandidateName: "C", CandidateEmail: "c@c.test", ScheduledAt: at, TokenHash: []byte(webhook.NewEventID()), ExpiresAt: at.Add(time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	return w, iv
}

// publish commits one event through st.
func publish(t *testing.T, st *store.Store, typ string, interviewID int64, data any) string {
	t.Helper()
	var id string
	err := st.InTx(context.Background(), func(tx *store.Store) error {
		var err error
		id, _, err = webhook.Publish(context.Background(), tx, typ, interviewID, data, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitDelivery waits (30 s at most) until the webhook's deliveries satisfy done.
func waitDelivery(t *testing.T, st *store.Store, hookID int64, what string, done func([]*store.WebhookDelivery) bool) []*store.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := st.WebhookDeliveries(context.Background(), hookID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if done(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			for _, d := range ds {
				t.Logf("delivery %d: %s, %d attempts, last error %q", d.ID, d.State, d.Attempts, d.LastError)
			}
			t.Fatalf("after 30 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func finished(n int, state string) func([]*store.WebhookDelivery) bool {
	return func(ds []*store.WebhookDelivery) bool {
		c := 0
		for _, d := range ds {
			if d.State == state {
				c++
			}
		}
		return c == n
	}
}

func TestDeliveryRetriedThenSucceeds(t *testing.T) {
	url := pgtest.SchemaURL(t)
	st, _ := node(t, url, "node-a", webhook.Options{})
	ctx := context.Background()
	rcv := newReceiver(t, "whsec_a", http.StatusInternalServerError, http.StatusNoContent)
	hook, iv := setup(t, st, rcv.URL+"/hook", "whsec_a", webhook.EventVerdictStored)

	evID := publish(t, st, webhook.EventVerdictStored, iv.ID,
		webhook.VerdictStored{InterviewID: iv.ID, Score: 72, Decision: "review", Reasons: []string{"virtual camera in use"}, ScoringVersion: "risk-1"})
	if !strings.HasPrefix(evID, "evt_") {
		t.Fatalf("event id %q", evID)
	}
	ds := waitDelivery(t, st, hook.ID, "the delivery succeeded", finished(1, store.DeliverySucceeded))
	d := ds[0]
	if d.Attempts != 2 || d.CompletedAt == nil || *d.LastStatus != 204 || d.LastError != "" {
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
	log, err := st.WebhookAttempts(ctx, d.ID)
	if err != nil || len(log) != 2 {
		t.Fatalf("delivery log: %v %+v", err, log)
	}
	if log[0].Attempt != 1 || *log[0].StatusCode != 500 || log[0].Error != "HTTP 500" ||
		log[0].Response != "Internal Server Error from receiver" || log[0].Duration < 0 {
		t.Errorf("attempt 1: %+v", log[0])
	}
	if log[1].Attempt != 2 || *log[1].StatusCode != 204 || log[1].Error != "" || log[1].At.Before(log[0].At) {
		t.Errorf("attempt 2: %+v", log[1])
	}
}

func TestDeliveryGivesUpAndRedeliver(t *testing.T) {
	url := pgtest.SchemaURL(t)
	st, _ := node(t, url, "node-a", webhook.Options{})
	ctx := context.Background()
	codes := make([]int, webhook.MaxAttempts, webhook.MaxAttempts+1)
	for i := range codes {
		codes[i] = http.StatusServiceUnavailable
	}
	rcv := newReceiver(t, "s", append(codes, http.StatusOK)...)
	hook, iv := setup(t, st, rcv.URL, "s", "*")
	publish(t, st, webhook.EventReviewDecided, iv.ID, webhook.ReviewDecided{InterviewID: iv.ID, Decision: "approve"})
	ds := waitDelivery(t, st, hook.ID, "the delivery failed for good", finished(1, store.DeliveryFailed))
	if ds[0].Attempts != webhook.MaxAttempts || ds[0].CompletedAt == nil || *ds[0].LastStatus != 503 {
		t.Fatalf("%+v", ds[0])
	}
	if log, _ := st.WebhookAttempts(ctx, ds[0].ID); len(log) != webhook.MaxAttempts || len(rcv.Calls()) != webhook.MaxAttempts {
		t.Fatalf("log %d rows, receiver %d calls, want %d", len(log), len(rcv.Calls()), webhook.MaxAttempts)
	}
	// An admin's redeliver queues it again; the receiver has recovered.
	if err := webhook.Redeliver(ctx, st, ds[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds = waitDelivery(t, st, hook.ID, "the redelivery succeeded", finished(1, store.DeliverySucceeded))
	if ds[0].Attempts != webhook.MaxAttempts+1 || len(rcv.Calls()) != webhook.MaxAttempts+1 {
		t.Fatalf("after redeliver: %+v, %d calls", ds[0], len(rcv.Calls()))
	}
	if err := webhook.Redeliver(ctx, st, 987654321, time.Now()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("redeliver a missing delivery: %v", err)
	}
}

func TestDeliveryRefusals(t *testing.T) {
	url := pgtest.SchemaURL(t)
	t.Run("PrivateTarget", func(t *testing.T) {
		// The production client: 127.0.0.1 is refused after resolution.
		st, _ := node(t, url, "node-private", webhook.Options{Client: webhook.NewClient(5*time.Second, false)})
		rcv := newReceiver(t, "s", http.StatusOK)
		hook, iv := setup(t, st, rcv.URL, "s", webhook.EventPing)
		publish(t, st, webhook.EventPing, iv.ID, nil)
		ds := waitDelivery(t, st, hook.ID, "one attempt recorded", func(ds []*store.WebhookDelivery) bool {
			return len(ds) == 1 && ds[0].LastError != ""
		})
		if len(rcv.Calls()) != 0 {
			t.Fatal("the request reached a loopback receiver")
		}
		log, _ := st.WebhookAttempts(context.Background(), ds[0].ID)
		if len(log) == 0 || log[0].StatusCode != nil || !strings.Contains(log[0].Error, "non-public") || strings.Contains(log[0].Error, "http://") {
			t.Fatalf("%+v", log)
		}
	})
	t.Run("Redirect", func(t *testing.T) {
		st, _ := node(t, url, "node-redirect", webhook.Options{BaseBackoff: time.Hour})
		rcv := newReceiver(t, "s", http.StatusFound)
		hook, iv := setup(t, st, rcv.URL, "s", webhook.EventPing)
		publish(t, st, webhook.EventPing, iv.ID, nil)
		ds := waitDelivery(t, st, hook.ID, "one attempt recorded", func(ds []*store.WebhookDelivery) bool {
			return len(ds) == 1 && ds[0].LastError != ""
		})
		if len(rcv.Calls()) != 1 {
			t.Fatalf("redirect followed: %d calls", len(rcv.Calls()))
		}
		if ds[0].State != store.DeliveryPending || !strings.Contains(ds[0].LastError, "redirects are not followed") ||
			!ds[0].NextAttemptAt.After(time.Now().Add(50*time.Minute)) {
			t.Fatalf("%+v", ds[0])
		}
	})
}

// Two nodes (two River clients, each with its own pool) work one database:
// every delivery reaches the receiver exactly once, on its first attempt,
// and an event published in a transaction that rolled back is never sent.
func TestDeliveredOnceAcrossNodes(t *testing.T) {
	url := pgtest.SchemaURL(t)
	ctx := context.Background()
	rcv := newReceiver(t, "s", http.StatusOK)
	stA, _ := node(t, url, "node-a", webhook.Options{})
	stB, qB := node(t, url, "node-b", webhook.Options{})
	hook, iv := setup(t, stA, rcv.URL, "s", "*")

	rolledBack := errors.New("the change is rolled back")
	err := stA.InTx(ctx, func(tx *store.Store) error {
		if _, n, err := webhook.Publish(ctx, tx, webhook.EventVerdictStored, iv.ID, map[string]string{"lost": "yes"}, time.Now()); err != nil || n != 1 {
			return fmt.Errorf("publish: %d %v", n, err)
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	const events = 12
	want := map[string]bool{}
	for i := range events {
		st := stA
		if i%2 == 1 {
			st = stB // events come from both nodes
		}
		want[publish(t, st, webhook.EventVerdictStored, iv.ID, map[string]int{"i": i})] = true
	}
	ds := waitDelivery(t, stA, hook.ID, "every delivery succeeded", finished(events, store.DeliverySucceeded))
	if len(ds) != events {
		t.Fatalf("%d deliveries stored, want %d (the rolled-back event has none)", len(ds), events)
	}
	for _, d := range ds {
		if d.Attempts != 1 {
			t.Fatalf("delivery %d took %d attempts", d.ID, d.Attempts)
		}
	}
	// Every job is finished before the receiver's calls are counted.
	jobstest.Wait(t, qB, webhook.DeliveryArgs{}.Kind(), "every delivery job completed", jobstest.InState(events, rivertype.JobStateCompleted))
	seen := map[string]bool{}
	for _, c := range rcv.Calls() {
		var env webhook.Envelope
		if err := json.Unmarshal(c.body, &env); err != nil {
			t.Fatal(err)
		}
		if seen[env.ID] {
			t.Fatalf("event %s delivered twice", env.ID)
		}
		if !want[env.ID] {
			t.Fatalf("unexpected event %s (%s)", env.ID, c.body)
		}
		seen[env.ID] = true
	}
	if len(seen) != events {
		t.Fatalf("%d events received, want %d", len(seen), events)
	}
}
