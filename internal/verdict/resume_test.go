package verdict_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/models"
)

// TestResumeReadsTheSessionBack: what a live session stored — challenge
// results (Judge.ChallengeResult) and checkpoint parts (SaveCheckpoint) —
// reads back through Resume as it was: the results of this session only
// (an earlier session's stay with it), the plan's progress and the
// identities; the judgement at the session's end removes the checkpoint,
// after which nothing is offered for resuming.
func TestResumeReadsTheSessionBack(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	var h [16]byte
	_, _ = rand.Read(h[:])
	iv := &models.Interview{CandidateName: "Resume Test", CandidateEmail: "resume@candidate.test", ScheduledAt: t0,
		TokenHash: []byte(hex.EncodeToString(h[:])), ExpiresAt: t0.Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(pgtest.Pool(t), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithJobs(q)
	j := verdict.NewJudge(verdict.Config{Store: st, Risk: risk.DefaultSettings(), BaseURL: "http://x",
		Now: func() time.Time { return t0.Add(time.Hour) }})
	started := t0.Add(10 * time.Minute)
	ms := func(d time.Duration) time.Time { return started.Add(d) }
	earlier := challenge.Result{ID: "earlier", Kind: challenge.KindBlink, Attempt: 1, Issued: t0, Deadline: t0.Add(5 * time.Second),
		Outcome: challenge.OutcomePassed, Peak: 2, Unit: "blinks", Metrics: map[string]float64{}}
	mine := challenge.Result{ID: "mine", Kind: challenge.KindTurnHead, Params: challenge.Params{Dir: challenge.DirLeft}, Attempt: 1,
		Issued: ms(time.Minute), Shown: ms(time.Minute + 200*time.Millisecond), Deadline: ms(time.Minute + 7*time.Second),
		Outcome: challenge.OutcomeFailed, Reason: "no turn", Onset: ms(time.Minute + time.Second), OnsetLatency: 800 * time.Millisecond,
		Peak: 12.5, Unit: "deg", PeakAt: ms(time.Minute + 2*time.Second), Metrics: map[string]float64{"identity_samples": 4}, Drift: 0.01}
	for _, r := range []challenge.Result{earlier, mine} {
		if err := j.ChallengeResult(ctx, iv.ID, r, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := challenge.NewPlan(challenge.PlanConfig{Count: 3}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	progress := challenge.Progress{Plan: plan, Next: 1, Active: &plan.Items[1].Challenge, LastKind: plan.Items[1].Kind}
	snap := faceid.Snapshot{Model: faceid.ModelName, Current: 0, Samples: 7,
		Identities: []faceid.SnapshotIdentity{{Template: faceid.Descriptor{0.25, -0.5}, Samples: 7, First: ms(time.Second), Last: ms(time.Minute)}}}
	for _, cp := range []analysis.Checkpoint{{Challenges: &progress}, {Identity: &snap}} {
		cp.InterviewID, cp.SessionStarted, cp.At = iv.ID, started, ms(time.Minute)
		if err := verdict.SaveCheckpoint(ctx, st, "node-a", &cp); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := verdict.Resume(ctx, st, iv.ID)
	if err != nil || cp == nil {
		t.Fatalf("resume: %+v %v", cp, err)
	}
	if !cp.SessionStarted.Equal(started) || len(cp.Results) != 1 || cp.Challenges == nil || cp.Identity == nil {
		t.Fatalf("resumed %+v", cp)
	}
	got := cp.Results[0]
	if !got.Issued.Equal(mine.Issued) || !got.Shown.Equal(mine.Shown) || !got.Onset.Equal(mine.Onset) || !got.PeakAt.Equal(mine.PeakAt) ||
		!got.Deadline.Equal(mine.Deadline) {
		t.Fatalf("times of the stored result: %+v", got)
	}
	got.Issued, got.Shown, got.Onset, got.PeakAt, got.Deadline = mine.Issued, mine.Shown, mine.Onset, mine.PeakAt, mine.Deadline
	if !reflect.DeepEqual(got, mine) {
		t.Fatalf("stored result read back\n%+v\nwant\n%+v", got, mine)
	}
	if cp.Challenges.Next != 1 || cp.Challenges.Active == nil || cp.Challenges.Active.ID != plan.Items[1].ID ||
		len(cp.Challenges.Plan.Items) != 3 || cp.Challenges.Plan.Items[2].ID != plan.Items[2].ID {
		t.Fatalf("progress read back %+v", cp.Challenges)
	}
	if cp.Identity.Identities[0].Template != snap.Identities[0].Template || cp.Identity.Samples != 7 {
		t.Fatalf("identity read back %+v", cp.Identity)
	}
	// Measurement parts read back joined; a part this server cannot read (another
	// version, malformed) is left out with MeasuresErr, the rest read, and the next
	// part numbered after it.
	m := analysis.Measures{V: analysis.MeasuresVersion, FramesDecoded: 3, Face: []models.Point{{T: 0, V: 1}, {T: 66, V: 1}}}
	if err := verdict.SaveCheckpoint(ctx, st, "node-a", &analysis.Checkpoint{InterviewID: iv.ID, SessionStarted: started, At: ms(time.Minute),
		Measures: &m}); err != nil {
		t.Fatal(err)
	}
	if cp, err := verdict.Resume(ctx, st, iv.ID); err != nil || cp.MeasuresErr != nil || cp.Measures == nil || len(cp.Measures.Face) != 2 ||
		cp.Measures.FramesDecoded != 3 {
		t.Fatalf("resumed measurements %+v (%v), %v", cp.Measures, cp.MeasuresErr, err)
	}
	for i, bad := range []string{`{"v": 99, "seq": 1}`, `{"v": 1, "seq": 1, "face": "x"}`} {
		if _, err := db.Exec(ctx, `INSERT INTO session_checkpoint_parts (interview_id, session_started, seq, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (interview_id, session_started, seq) DO UPDATE SET data = EXCLUDED.data`, iv.ID, started, 1, bad); err != nil {
			t.Fatal(err)
		}
		cp, err := verdict.Resume(ctx, st, iv.ID)
		if err != nil || cp == nil || !errors.Is(cp.MeasuresErr, analysis.ErrMeasures) || cp.Measures == nil || len(cp.Measures.Face) != 2 ||
			cp.NextPart != 2 || cp.Challenges == nil || len(cp.Results) != 1 {
			t.Fatalf("bad part %d: %+v, %v", i, cp, err)
		}
	}
	// The session's end stores it and removes the checkpoint.
	r := &analysis.Result{InterviewID: iv.ID, Reason: models.EndCompleted, StartedAt: cp.SessionStarted, EndedAt: ms(20 * time.Minute),
		Video: true, Audio: true, Challenges: cp.Results, ChallengeFailures: 1}
	if err := j.SessionEnded(ctx, r); err != nil {
		t.Fatal(err)
	}
	if cp, err := verdict.Resume(ctx, st, iv.ID); err != nil || cp != nil {
		t.Fatalf("after the session's end: %+v %v", cp, err)
	}
}
