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
	if n, err := st.EnqueueWebhookEvent(ctx, ev); err != nil || n != 2 {
		t.Fatalf("verdict event: %d %v, want the two active subscribers", n, err)
	}
	if n, _ := st.EnqueueWebhookEvent(ctx, ev); n != 0 {
		t.Fatalf("the same event twice: %d new deliveries", n)
	}
	if n, _ := st.EnqueueWebhookEvent(ctx, store.WebhookEvent{ID: "evt_2", Type: "review.decided", Payload: []byte(`{}`), At: t0}); n != 1 {
		t.Fatalf("review event: %d, want only the * subscriber", n)
	}

	if got, _ := st.ClaimWebhookDeliveries(ctx, t0.Add(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatal("nothing is due before its time")
	}
	claimed, err := st.ClaimWebhookDeliveries(ctx, t0, time.Minute, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	d := claimed[0]
	if d.Attempts != 1 || d.URL == "" || d.Secret == "" || d.Payload == "" || d.LockedUntil == nil || !d.LockedUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("claimed delivery: %+v", d)
	}
	if string(d.Payload) != `{"a": 1}` && d.Event == "verdict.stored" {
		t.Fatalf("payload must be kept byte for byte: %q", d.Payload)
	}
	if more, _ := st.ClaimWebhookDeliveries(ctx, t0.Add(30*time.Second), time.Minute, 10); len(more) != 1 {
		t.Fatalf("leased deliveries are not handed out again: %d", len(more))
	}
	// The first worker died: after its lease another one takes the delivery, attempt 2.
	again, _ := st.ClaimWebhookDeliveries(ctx, t0.Add(2*time.Minute), time.Minute, 10)
	if len(again) != 3 {
		t.Fatalf("after the lease: %d", len(again))
	}
	var re *store.WebhookDelivery
	for _, x := range again {
		if x.ID == d.ID {
			re = x
		}
	}
	if re == nil || re.Attempts != 2 {
		t.Fatalf("re-claimed: %+v", re)
	}
	// The dead worker's late report is logged but does not change the state.
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
	if got.State != store.DeliverySucceeded || got.CompletedAt == nil || got.LockedUntil != nil || *got.LastStatus != 204 {
		t.Fatalf("after success: %+v", got)
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
	if list, _ := st.WebhookDeliveries(ctx, verdicts.ID, 0); len(list) != 1 || list[0].State != store.DeliveryPending {
		t.Fatalf("deliveries of a webhook: %+v", list)
	}
	// Disabling a webhook parks its deliveries.
	verdicts.Active = false
	_ = st.UpdateWebhook(ctx, verdicts)
	for _, x := range mustClaim(t, st, t0.Add(2*time.Hour)) {
		if x.WebhookID == verdicts.ID {
			t.Fatal("a disabled webhook's deliveries must not be sent")
		}
	}
}

func mustClaim(t *testing.T, st *store.Store, now time.Time) []*store.WebhookDelivery {
	t.Helper()
	out, err := st.ClaimWebhookDeliveries(context.Background(), now, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
