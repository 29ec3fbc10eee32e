package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// secInterview creates an interview for the security tests.
func secInterview(t *testing.T, st *store.Store, email string) *models.Interview {
	t.Helper()
	var h [16]byte
	_, _ = rand.Read(h[:])
	at := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	iv := &models.Interview{CandidateName: "Cand " + email, CandidateEmail: email, ClaimedCity: "Lisbon", ClaimedCountry: "Portugal",
		ScheduledAt: at, Notes: "note about " + email, TokenHash: []byte(hex.EncodeToString(h[:])), ExpiresAt: at.Add(72 * time.Hour)}
	if err := st.CreateInterview(context.Background(), iv); err != nil {
		t.Fatal(err)
	}
	return iv
}

func TestWebhookCRUD(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	w := &store.Webhook{URL: "https://hooks.example.test/lc", Secret: "s3cret", Events: []string{"verdict.stored"}, Active: true}
	if err := st.CreateWebhook(ctx, w); err != nil || w.ID == 0 || w.CreatedAt.IsZero() {
		t.Fatalf("%v %+v", err, w)
	}
	w.Events, w.Active, w.Description = []string{"*"}, false, "ATS"
	if err := st.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, err := st.Webhook(ctx, w.ID)
	if err != nil || got.Active || got.Events[0] != "*" || got.Description != "ATS" || got.Secret != "s3cret" {
		t.Fatalf("%v %+v", err, got)
	}
	if list, _ := st.Webhooks(ctx); len(list) != 1 {
		t.Fatalf("list: %d", len(list))
	}
	if err := st.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWebhook(ctx, w.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := st.Webhook(ctx, w.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("fetch deleted: %v", err)
	}
}

func TestWebhookQueue(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	iv := secInterview(t, st, "q@c.test")
	verdicts := &store.Webhook{URL: "https://a.test/", Secret: "a", Events: []string{"verdict.stored"}, Active: true}
	all := &store.Webhook{URL: "https://b.test/", Secret: "b", Events: []string{"*"}, Active: true}
	off := &store.Webhook{URL: "https://c.test/", Secret: "c", Events: []string{"*"}, Active: false}
	for _, w := range []*store.Webhook{verdicts, all, off} {
		if err := st.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	ev := store.WebhookEvent{ID: "evt_1", Type: "verdict.stored", InterviewID: iv.ID, Payload: []byte(`{"a": 1}`), At: t0}
	ids, err := st.EnqueueWebhookEvent(ctx, ev)
	if err != nil || len(ids) != 2 {
		t.Fatalf("verdict event: %v %v, want the two active subscribers", ids, err)
	}
	if again, _ := st.EnqueueWebhookEvent(ctx, ev); len(again) != 0 {
		t.Fatalf("the same event twice: %v new deliveries", again)
	}
	if review, _ := st.EnqueueWebhookEvent(ctx, store.WebhookEvent{ID: "evt_2", Type: "review.decided", Payload: []byte(`{}`), At: t0}); len(review) != 1 {
		t.Fatalf("review event: %v, want only the * subscriber", review)
	}

	d, err := st.BeginWebhookAttempt(ctx, ids[0])
	if err != nil || d.Attempts != 1 || d.URL == "" || d.Secret == "" || d.State != store.DeliveryPending || !d.NextAttemptAt.Equal(t0) {
		t.Fatalf("first attempt: %v %+v", err, d)
	}
	if d.Payload != `{"a": 1}` {
		t.Fatalf("payload must be kept byte for byte: %q", d.Payload)
	}
	// The job was rescued from a node that looked dead: a second attempt begins.
	re, err := st.BeginWebhookAttempt(ctx, ids[0])
	if err != nil || re.Attempts != 2 {
		t.Fatalf("second attempt: %v %+v", err, re)
	}
	// The first node's late report is logged but does not change the state.
	code := 500
	stale, err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: d.ID, Attempt: 1, At: t0.Add(3 * time.Minute), StatusCode: &code,
		Error: "HTTP 500", Duration: 1500 * time.Millisecond}, store.DeliveryOutcome{State: store.DeliveryPending, NextAttempt: t0.Add(time.Hour)})
	if err != nil || !stale {
		t.Fatalf("stale report: %v %v", stale, err)
	}
	ok := 204
	stale, err = st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: d.ID, Attempt: 2, At: t0.Add(3 * time.Minute), StatusCode: &ok,
		Duration: 20 * time.Millisecond, Response: "fine"}, store.DeliveryOutcome{State: store.DeliverySucceeded})
	if err != nil || stale {
		t.Fatalf("current report: %v %v", stale, err)
	}
	got, _ := st.WebhookDelivery(ctx, d.ID)
	if got.State != store.DeliverySucceeded || got.CompletedAt == nil || *got.LastStatus != 204 {
		t.Fatalf("after success: %+v", got)
	}
	if _, err := st.BeginWebhookAttempt(ctx, d.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a finished delivery gets no attempt: %v", err)
	}
	log, _ := st.WebhookAttempts(ctx, d.ID)
	if len(log) != 2 || *log[0].StatusCode != 500 || log[0].Duration != 1500*time.Millisecond || log[1].Response != "fine" {
		t.Fatalf("attempt log: %+v", log)
	}
	if err := st.RedeliverWebhook(ctx, d.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RedeliverWebhook(ctx, d.ID, t0.Add(time.Hour)); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("redeliver a pending delivery: %v", err)
	}
	if err := st.RedeliverWebhook(ctx, 987654321, t0); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("redeliver a missing delivery: %v", err)
	}
	// Disabling a webhook parks its deliveries: no attempt is counted.
	var other int64
	for _, id := range ids {
		if id != d.ID {
			other = id
		}
	}
	owner, _ := st.WebhookDelivery(ctx, other)
	hook, _ := st.Webhook(ctx, owner.WebhookID)
	hook.Active = false
	if err := st.UpdateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginWebhookAttempt(ctx, other); !errors.Is(err, store.ErrWebhookInactive) {
		t.Fatalf("disabled webhook: %v", err)
	}
	if parked, _ := st.WebhookDelivery(ctx, other); parked.Attempts != 0 || parked.State != store.DeliveryPending {
		t.Fatalf("parked delivery: %+v", parked)
	}
}
