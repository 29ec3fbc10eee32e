package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/models"
)

// memStore is an in-memory rescoreStore.
type memStore struct {
	signals  map[int64][]models.Signal
	verdicts map[int64][]store.Verdict
}

func (m *memStore) Signals(_ context.Context, id int64) ([]models.Signal, error) {
	return m.signals[id], nil
}

func (m *memStore) InterviewsWithSignals(context.Context) ([]int64, error) {
	var ids []int64
	for id := range m.signals {
		ids = append(ids, id)
	}
	if len(ids) == 2 && ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0]
	}
	return ids, nil
}

func (m *memStore) LatestVerdict(_ context.Context, id int64) (*store.Verdict, error) {
	vs := m.verdicts[id]
	if len(vs) == 0 {
		return nil, models.ErrNotFound
	}
	v := vs[len(vs)-1]
	return &v, nil
}

func (m *memStore) SaveVerdict(_ context.Context, v *store.Verdict) error {
	m.verdicts[v.InterviewID] = append(m.verdicts[v.InterviewID], *v)
	return nil
}

func TestRescore(t *testing.T) {
	photo := []models.Signal{{Kind: "photo", Score: 0.95, Confidence: 0.85, Reason: "rigid, no blink"},
		{Kind: "face_presence", Score: 0, Confidence: 1, Reason: "face found"}}
	clean := []models.Signal{{Kind: "face_presence", Score: 0, Confidence: 1, Reason: "face found"}}
	db := &memStore{signals: map[int64][]models.Signal{1: photo, 2: clean},
		verdicts: map[int64][]store.Verdict{1: {{InterviewID: 1, Score: 10, Decision: "verified", ScoringVersion: "risk-0"}}}}
	var out bytes.Buffer
	if err := rescore(context.Background(), db, nil, true, risk.DefaultSettings(), verdict.RescoreOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	v1 := db.verdicts[1][len(db.verdicts[1])-1]
	if len(db.verdicts[1]) != 2 || v1.Decision != "review" || v1.Score != 56.5 || v1.Trigger != store.TriggerRescore ||
		v1.ScoringVersion != risk.ScoringVersion || v1.SignalCount != 2 {
		t.Errorf("interview 1: %+v", db.verdicts[1])
	}
	var reasons []risk.Reason
	if err := json.Unmarshal(v1.Reasons, &reasons); err != nil || reasons[0].Kind != "photo" {
		t.Errorf("stored reasons %s: %v", v1.Reasons, err)
	}
	if v2 := db.verdicts[2]; len(v2) != 1 || v2[0].Decision != "verified" {
		t.Errorf("interview 2: %+v", v2)
	}
	for _, s := range []string{"interview 1: 56.5 review", "was 10.0 verified (risk-0)", "2 verdicts stored, 2 decisions changed"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}

	// Re-scoring again is deterministic and changes nothing; a dry run stores nothing.
	out.Reset()
	if err := rescore(context.Background(), db, []int64{1}, false, risk.DefaultSettings(), verdict.RescoreOptions{Dry: true}, &out); err != nil {
		t.Fatal(err)
	}
	if len(db.verdicts[1]) != 2 || !strings.Contains(out.String(), "0 decisions changed") || !strings.Contains(out.String(), "dry run") {
		t.Errorf("dry run: %d verdicts, output %q", len(db.verdicts[1]), out.String())
	}
}

func TestRescoreArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rescore"}, "give interview ids or --all"},
		{[]string{"rescore", "--all", "3"}, "give interview ids or --all"},
		{[]string{"rescore", "abc"}, `"abc" is not an interview id`},
		{[]string{"rescore", "--all", "--review-at", "80", "--fail-at", "20"}, "thresholds"},
	} {
		code, _, errOut := cli(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
