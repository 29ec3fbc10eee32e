package rescore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/livecheck/livecheck/internal/jobs/jobstest"
	"github.com/livecheck/livecheck/internal/rescore"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// A queued rescore job is worked by a node: the new verdict is stored with
// the trigger "rescore"; an interview without signals cancels its job.
func TestRescoreJob(t *testing.T) {
	pool := pgtest.Schema(t)
	ctx := context.Background()
	st := store.New(pool)
	interview := func(email string) int64 {
		at := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
		iv := &models.Interview{CandidateName: "C", CandidateEmail: email, ScheduledAt: at, TokenHash: []byte(email), ExpiresAt: at.Add(time.Hour)}
		if err := st.CreateInterview(ctx, iv); err != nil {
			t.Fatal(err)
		}
		return iv.ID
	}
	withSignals, without := interview("a@c.test"), interview("b@c.test")
	start := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	if err := st.SaveSession(ctx, store.SessionResult{InterviewID: withSignals, Reason: "completed", StartedAt: start, EndedAt: start.Add(time.Minute),
		FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")}, nil,
		[]models.Signal{{Kind: "photo", Score: 0.95, Confidence: 0.85, Reason: "rigid, no blink"}}, models.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &rescore.Worker{St: st})
	q := jobstest.Start(t, pool, "node-a", workers)
	def := risk.DefaultSettings()
	if err := st.WithJobs(q).InsertJobs(ctx, rescore.Args{InterviewID: withSignals, ReviewAt: def.ReviewAt, FailAt: def.FailAt},
		rescore.Args{InterviewID: without, ReviewAt: def.ReviewAt, FailAt: def.FailAt}); err != nil {
		t.Fatal(err)
	}
	js := jobstest.Wait(t, q, rescore.Args{}.Kind(), "both rescore jobs finished",
		jobstest.InState(2, rivertype.JobStateCompleted, rivertype.JobStateCancelled))
	for _, j := range js {
		var a rescore.Args
		_ = json.Unmarshal(j.EncodedArgs, &a)
		if want := map[int64]rivertype.JobState{withSignals: rivertype.JobStateCompleted, without: rivertype.JobStateCancelled}[a.InterviewID]; j.State != want {
			t.Fatalf("job for %d: %s, want %s", a.InterviewID, j.State, want)
		}
	}
	v, err := st.LatestVerdict(ctx, withSignals)
	if err != nil || v.Trigger != store.TriggerRescore || v.ScoringVersion != risk.ScoringVersion || v.SignalCount != 1 || v.Decision == "" {
		t.Fatalf("stored verdict: %v %+v", err, v)
	}
}
