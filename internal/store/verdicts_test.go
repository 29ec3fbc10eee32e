package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestVerdicts(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	iv := secInterview(t, st, "verdict@example.test")
	if _, err := st.LatestVerdict(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("no verdict yet: %v, want ErrNotFound", err)
	}
	t0 := time.Date(2030, 1, 2, 11, 0, 0, 0, time.UTC)
	first := &store.Verdict{InterviewID: iv.ID, Score: 56.5, Decision: "review",
		Reasons:        json.RawMessage(`[{"kind":"photo","text":"rigid","points":56.5,"weight":0.7,"evidence":0.81}]`),
		ScoringVersion: "risk-1", ReviewAt: 30, FailAt: 70, Coverage: 0.85, SignalCount: 4, Trigger: store.TriggerSessionEnd, ComputedAt: t0}
	if err := st.SaveVerdict(ctx, first); err != nil || first.ID == 0 {
		t.Fatalf("%v %+v", err, first)
	}
	second := &store.Verdict{InterviewID: iv.ID, Score: 12, Decision: "verified", ScoringVersion: "risk-2", ReviewAt: 30, FailAt: 70,
		Coverage: 0.85, SignalCount: 4, Trigger: store.TriggerRescore, ComputedAt: t0.Add(time.Hour)}
	if err := st.SaveVerdict(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err := st.LatestVerdict(ctx, iv.ID)
	if err != nil || got.ID != second.ID || got.Decision != "verified" || got.ScoringVersion != "risk-2" || string(got.Reasons) != "[]" {
		t.Fatalf("latest: %v %+v", err, got)
	}
	all, err := st.Verdicts(ctx, iv.ID)
	if err != nil || len(all) != 2 || all[1].ID != first.ID || !all[1].ComputedAt.Equal(t0) {
		t.Fatalf("history: %v %+v", err, all)
	}
	var reasons []map[string]any
	if err := json.Unmarshal(all[1].Reasons, &reasons); err != nil || reasons[0]["kind"] != "photo" {
		t.Errorf("reasons round trip: %v %s", err, all[1].Reasons)
	}
	// The database refuses what the risk engine never produces.
	for _, bad := range []store.Verdict{
		{InterviewID: iv.ID, Score: 120, Decision: "review", ScoringVersion: "x", Trigger: store.TriggerRescore},
		{InterviewID: iv.ID, Score: 10, Decision: "maybe", ScoringVersion: "x", Trigger: store.TriggerRescore},
		{InterviewID: iv.ID, Score: 10, Decision: "review", ScoringVersion: "x", Trigger: "cron"},
	} {
		err := st.InTx(ctx, func(tx *store.Store) error { return tx.SaveVerdict(ctx, &bad) })
		if err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestInterviewsWithSignalsAndWindows(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	a := secInterview(t, st, "a-sig@example.test")
	b := secInterview(t, st, "b-sig@example.test")
	start := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	r := store.SessionResult{InterviewID: a.ID, Reason: "completed", StartedAt: start, EndedAt: start.Add(time.Minute),
		FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")}
	sigs := []models.Signal{{Kind: "photo", Score: 0.9, Confidence: 0.8, Reason: "rigid"}}
	if err := st.SaveSession(ctx, r, nil, sigs, models.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	ids, err := st.InterviewsWithSignals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hasA, hasB := false, false
	for _, id := range ids {
		hasA, hasB = hasA || id == a.ID, hasB || id == b.ID
	}
	if !hasA || hasB {
		t.Errorf("interviews with signals %v: want %d and not %d", ids, a.ID, b.ID)
	}

	ws := []store.DetectorWindow{
		{Kind: "photo", From: start, To: start.Add(4 * time.Second), Score: 0.9, Confidence: 0.5, Value: 8},
		{Kind: "photo", From: start.Add(4 * time.Second), To: start.Add(8 * time.Second), Score: 0.8, Confidence: 0.5, Value: 9},
		{Kind: "flicker", From: start, To: start.Add(4 * time.Second), Score: 0.1, Confidence: 0.4, Value: 0.5},
	}
	if err := st.SaveDetectorWindows(ctx, a.ID, ws); err != nil {
		t.Fatal(err)
	}
	ws[0].Score = 0.95 // stored again: replaced, not duplicated
	if err := st.SaveDetectorWindows(ctx, a.ID, ws[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := st.DetectorWindows(ctx, a.ID)
	if err != nil || len(got) != 3 || got[0].Kind != "flicker" || got[1].Score != 0.95 || !got[2].From.Equal(start.Add(4*time.Second)) {
		t.Fatalf("%v %+v", err, got)
	}
}
