package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestDeclineAndConsentChoice(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	at := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	iv := &models.Interview{CandidateName: "Dee Clines", CandidateEmail: "d@c.test", ScheduledAt: at, TokenHash: []byte("hd"), ExpiresAt: at.Add(time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.SetDeclined(ctx, iv.ID, true, at); err != nil || !ok {
		t.Fatalf("decline: %v %v", ok, err)
	}
	if ok, _ := st.SetDeclined(ctx, iv.ID, true, at); ok {
		t.Fatal("declining twice changed the status again")
	}
	got, _ := st.Interview(ctx, iv.ID)
	if got.Status != models.StatusDeclined || got.EffectiveStatus(at.Add(2*time.Hour)) != models.StatusDeclined {
		t.Fatalf("status %s", got.Status)
	}
	if ok, err := st.SetDeclined(ctx, iv.ID, false, at); err != nil || !ok {
		t.Fatalf("change of mind: %v %v", ok, err)
	}
	if got, _ = st.Interview(ctx, iv.ID); got.Status != models.StatusScheduled {
		t.Fatalf("after consenting: %s", got.Status)
	}
	if err := st.SetInterviewStatus(ctx, iv.ID, models.StatusLive, at); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.SetDeclined(ctx, iv.ID, true, at); ok {
		t.Fatal("a live interview was declined")
	}

	// The flash choice is stored with the consent.
	for _, c := range []store.Consent{
		{InterviewID: iv.ID, BrowserID: "b1", Decision: "given", At: at, IP: "192.0.2.1", Notice: "n"},
		{InterviewID: iv.ID, BrowserID: "b1", Decision: "given", At: at.Add(time.Second), IP: "192.0.2.1", Notice: "n", Flash: "fade"},
	} {
		if err := st.AddConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.LatestConsent(ctx, iv.ID, "b1")
	if err != nil || c.Flash != "fade" {
		t.Fatalf("latest consent: %+v %v", c, err)
	}
	all, _ := st.Consents(ctx, iv.ID)
	if len(all) != 2 || all[0].Flash != "flash" || all[1].Flash != "fade" {
		t.Fatalf("consents: %+v", all)
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		return tx.AddConsent(ctx, store.Consent{InterviewID: iv.ID, BrowserID: "b2", Decision: "given", At: at, IP: "x", Notice: "n", Flash: "strobe"})
	})
	if err == nil {
		t.Fatal("an unknown flash choice was stored")
	}

	// A refused second-device join is an attempt that ended as it started.
	id, err := st.RefusedAttempt(ctx, store.Attempt{InterviewID: iv.ID, BrowserID: "b9", IP: "198.51.100.9", UserAgent: "UA", StartedAt: at}, "refused: link in use")
	if err != nil || id == 0 {
		t.Fatal(err)
	}
	atts, _ := st.Attempts(ctx, iv.ID)
	if len(atts) != 1 || atts[0].EndedAt == nil || !atts[0].EndedAt.Equal(at) || *atts[0].EndReason != "refused: link in use" || atts[0].IP != "198.51.100.9" {
		t.Fatalf("attempts: %+v", atts)
	}
	names, err := st.InterviewNames(ctx, []int64{iv.ID, 987654})
	if err != nil || len(names) != 1 || names[iv.ID] != "Dee Clines" {
		t.Fatalf("names: %v %v", names, err)
	}
}

func TestAuditSearchAndOnce(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	for _, e := range []store.AuditEntry{
		{Actor: "ann@example.test", Action: "interview.create", Target: "interview:1"},
		{Actor: "bob@example.test", Action: "review.approve", Target: "interview:1"},
		{Actor: "bob@example.test", Action: "review.reject", Target: "interview:2"},
		{Actor: "candidate", Action: "consent.declined", Target: "interview:2"},
		{Actor: "x_%", Action: "login", Target: ""},
	} {
		if err := st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	count := func(f store.AuditFilter) int {
		t.Helper()
		es, err := st.AuditSearch(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	for name, tc := range map[string]struct {
		f    store.AuditFilter
		want int
	}{
		"actor substring":   {store.AuditFilter{Actor: "BOB"}, 2},
		"action prefix":     {store.AuditFilter{Action: "review."}, 2},
		"target":            {store.AuditFilter{Target: "interview:2"}, 2},
		"combined":          {store.AuditFilter{Actor: "bob", Target: "interview:1"}, 1},
		"literal wildcards": {store.AuditFilter{Actor: "_%"}, 1},
		"future":            {store.AuditFilter{From: time.Now().Add(time.Hour)}, 0},
		"before the future": {store.AuditFilter{Action: "review", To: time.Now().Add(time.Hour)}, 2},
		"limit":             {store.AuditFilter{Limit: 3}, 3},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d entries, want %d", name, got, tc.want)
		}
	}
	end := store.AuditEntry{Actor: "system", Action: "interview.end", Target: "interview:7", Detail: map[string]any{"session": "2030-01-02T10:00:00Z", "reason": "completed"}}
	for range 3 { // a retried writer
		if err := st.AuditOnce(ctx, end, "session"); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(store.AuditFilter{Action: "interview.end"}); n != 1 {
		t.Fatalf("%d end entries after three tries, want 1", n)
	}
	end.Detail = map[string]any{"session": "2030-01-02T11:00:00Z"}
	if err := st.AuditOnce(ctx, end, "session"); err != nil {
		t.Fatal(err)
	}
	if n := count(store.AuditFilter{Action: "interview.end"}); n != 2 {
		t.Fatalf("a second session's end was not recorded (%d)", n)
	}
	if err := st.AuditOnce(ctx, store.AuditEntry{Action: "x"}, "session"); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("without the key: %v", err)
	}
}
