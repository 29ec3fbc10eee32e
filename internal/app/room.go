package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// analyzerFactory loads the landmark model once and returns a per-session
// analyser constructor. A missing model or cascade is a clear start-up error.
func analyzerFactory(cfg *config.Config) (func() (analysis.FrameAnalyzer, error), error) {
	lm, err := vision.LoadLandmarker(cfg.LandmarkModel)
	if err != nil {
		return nil, fmt.Errorf("app: landmark model %s (LIVECHECK_LANDMARK_MODEL; Debian package libdlib-data): %w", cfg.LandmarkModel, err)
	}
	vcfg := vision.Config{Landmarker: lm, Detector: vision.DetectorConfig{FrontalCascade: cfg.CascadePath}}
	probe, err := vision.NewAnalyzer(vcfg)
	if err != nil {
		return nil, fmt.Errorf("app: face cascade %s (LIVECHECK_CASCADE; Debian package opencv-data): %w", cfg.CascadePath, err)
	}
	_ = probe.Close()
	return func() (analysis.FrameAnalyzer, error) { return vision.NewAnalyzer(vcfg) }, nil
}

// verdictDeps are what the end of a session needs to judge it.
type verdictDeps struct {
	checker   *netsig.Checker
	reuseDays int
	risk      risk.Settings
	baseURL   string
	notify    func() // wakes the webhook worker after a commit
}

// roomHooks persist what live rooms report.
func roomHooks(st *store.Store) room.Hooks {
	return room.Hooks{
		SessionStarted: func(ctx context.Context, id int64, at time.Time) error {
			return st.SetInterviewStatus(ctx, id, models.StatusLive, at)
		},
		AttemptStarted: func(ctx context.Context, id int64, a room.Attempt) error {
			_, err := st.StartAttempt(ctx, store.Attempt{InterviewID: id, Key: a.Key, BrowserID: a.BrowserID, IP: a.IP, UserAgent: a.UserAgent, StartedAt: a.At})
			return err
		},
		AttemptEnded: func(ctx context.Context, key string, at time.Time, reason string, r *models.ConnectionReport) error {
			return st.EndAttemptByKey(ctx, key, at, reason, r)
		},
	}
}

// analysisStore persists what live analyses produce.
func analysisStore(st *store.Store, now func() time.Time, vd verdictDeps) analysis.Store {
	return analysis.Store{
		SessionEnded: func(ctx context.Context, r *analysis.Result) error {
			return judgeAndSave(ctx, st, r, vd, now())
		},
		ChallengeResult: func(ctx context.Context, id int64, r challenge.Result, jpeg []byte, jpegAt time.Time) error {
			return saveChallenge(ctx, st, id, r, jpeg, jpegAt)
		},
	}
}

func saveChallenge(ctx context.Context, st *store.Store, id int64, r challenge.Result, jpeg []byte, jpegAt time.Time) error {
	params, _ := json.Marshal(r.Params)
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	rec := store.ChallengeRecord{InterviewID: id, ChallengeID: r.ID, Kind: string(r.Kind), Params: params, Attempt: r.Attempt,
		Replaces: r.Replaces, IssuedAt: r.Issued, ShownAt: opt(r.Shown), Deadline: r.Deadline, Outcome: string(r.Outcome),
		Reason: r.Reason, OnsetAt: opt(r.Onset), Peak: r.Peak, Unit: r.Unit, PeakAt: opt(r.PeakAt), Metrics: r.Metrics, Drift: r.Drift}
	if !r.Onset.IsZero() {
		ms := float64(r.OnsetLatency.Microseconds()) / 1000
		rec.OnsetLatencyMs = &ms
	}
	var ev *store.Evidence
	if len(jpeg) > 0 {
		ev = &store.Evidence{Kind: "challenge_" + string(r.Kind), At: jpegAt, Reason: "face at the challenge's peak", JPEG: jpeg}
	}
	return st.SaveChallenge(ctx, rec, ev)
}

// judgeAndSave adds the network and device signals to the session's own,
// scores them into a verdict, and stores results, verdict and the webhook event
// in one transaction. Idempotent: the room's writer retries it.
func judgeAndSave(ctx context.Context, st *store.Store, r *analysis.Result, vd verdictDeps, now time.Time) error {
	sigs := append([]models.Signal(nil), r.Signals...)
	if vd.checker != nil {
		ns, err := networkSignals(ctx, st, vd.checker, vd.reuseDays, r.InterviewID, now)
		if err != nil {
			return err
		}
		sigs = append(sigs, ns...)
	}
	v := risk.Score(sigs, vd.risk)
	status := models.StatusCompleted
	if r.Locked || v.Decision == risk.Failed {
		status = models.StatusFlagged
	}
	if r.Reason == models.EndInterrupted {
		status = models.StatusInterrupted
	}
	err := st.InTx(ctx, func(tx *store.Store) error {
		if err := saveResult(ctx, tx, r, sigs, status); err != nil {
			return err
		}
		if err := saveVerdict(ctx, tx, r.InterviewID, v, len(sigs), r.EndedAt.Truncate(time.Microsecond)); err != nil {
			return err
		}
		if len(r.Windows) > 0 {
			ws := make([]store.DetectorWindow, len(r.Windows))
			for i, w := range r.Windows {
				ws[i] = store.DetectorWindow{Kind: w.Kind, From: w.From, To: w.To, Score: w.Score, Confidence: w.Confidence, Value: w.Value}
			}
			if err := tx.SaveDetectorWindows(ctx, r.InterviewID, ws); err != nil {
				return err
			}
		}
		reasons := make([]string, 0, len(v.Reasons))
		for _, rs := range v.Reasons {
			if rs.Points > 0 {
				reasons = append(reasons, rs.Text)
			}
		}
		_, _, err := webhook.Publish(ctx, tx, webhook.EventVerdictStored, r.InterviewID, webhook.VerdictStored{
			InterviewID: r.InterviewID, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
			ScoringVersion: v.ScoringVersion, URL: fmt.Sprintf("%s/review/%d", vd.baseURL, r.InterviewID)}, now)
		return err
	})
	if err == nil && vd.notify != nil {
		vd.notify()
	}
	return err
}

func saveResult(ctx context.Context, st *store.Store, r *analysis.Result, sigs []models.Signal, status models.InterviewStatus) error {
	mustJSON := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil || string(b) == "null" {
			return json.RawMessage("[]")
		}
		return b
	}
	return st.SaveSession(ctx, store.SessionResult{
		InterviewID: r.InterviewID, Reason: r.Reason, StartedAt: r.StartedAt, EndedAt: r.EndedAt,
		FramesDecoded: int64(r.FramesDecoded), FramesAnalysed: int64(r.FramesAnalysed), FramesDropped: int64(r.FramesDropped),
		DecodeErrors: int64(r.DecodeErrors), KeyframeRequests: int64(r.KeyframeRequests), AudioChunks: int64(r.AudioChunks),
		FaceAbsent: mustJSON(r.FaceAbsent), CameraOff: mustJSON(r.CameraOff),
	}, []store.Series{
		{Kind: "face_presence", Biometric: true, Points: mustJSON(r.FacePresence)},
		{Kind: "audio_level", Biometric: true, Points: mustJSON(r.AudioLevel)},
		{Kind: "rtt", Biometric: false, Points: mustJSON(r.RTT)},
		{Kind: "yaw", Biometric: true, Points: mustJSON(r.Yaw)},
		{Kind: "ear", Biometric: true, Points: mustJSON(r.EAR)},
		{Kind: "mouth", Biometric: true, Points: mustJSON(r.Mouth)},
	}, sigs, status)
}

// saveVerdict stores the verdict computed at the end of a session (idempotent:
// a retried write finds the verdict of the same computation and skips).
func saveVerdict(ctx context.Context, tx *store.Store, id int64, v risk.Verdict, signals int, now time.Time) error {
	if last, err := tx.LatestVerdict(ctx, id); err == nil && last.Trigger == store.TriggerSessionEnd && last.ComputedAt.Equal(now) {
		return nil
	} else if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	reasons, err := json.Marshal(v.Reasons)
	if err != nil {
		return err
	}
	return tx.SaveVerdict(ctx, &store.Verdict{InterviewID: id, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
		ScoringVersion: v.ScoringVersion, ReviewAt: v.ReviewAt, FailAt: v.FailAt, Coverage: v.Coverage, SignalCount: signals,
		Trigger: store.TriggerSessionEnd, ComputedAt: now})
}

// The live analysis is what the rooms feed.
var _ room.Analysis = (*analysis.Session)(nil)
