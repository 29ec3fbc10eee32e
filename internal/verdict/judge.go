// Package verdict judges interviews: it maps what an analysis session
// measured to signals (Signals), adds the network and device signals of a
// live interview (NetworkSignals) and the identity comparisons with other
// candidates and the reference photo (identity.go), scores them with
// internal/risk, and stores a live session's results, face templates,
// identity evidence, verdict, detector windows, final status and webhook
// event in one transaction (Judge). livecheck eval uses Of, analyze
// OfRecording (with a reference photo), rescore Rescore: the same mapping and scoring
// everywhere.
package verdict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// Config configures a Judge.
type Config struct {
	// Store must carry the job queue (store.WithJobs): the webhook event's
	// deliveries are queued in the verdict's transaction.
	Store *store.Store
	// Checker runs the network and device checks; nil: none.
	Checker *netsig.Checker
	// ReuseDays is how far back reuse by other candidates (addresses,
	// devices, faces) is looked for; 0: DefaultReuseDays for faces.
	ReuseDays int
	Risk      risk.Settings
	// BaseURL makes the review link of the webhook event.
	BaseURL string
	Now     func() time.Time
}

// Judge judges and stores live sessions.
type Judge struct {
	cfg Config
}

// NewJudge returns a judge.
func NewJudge(cfg Config) *Judge {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Judge{cfg: cfg}
}

// Of is the verdict of a session's own evidence (a recording: no network
// facts), with the signals it was computed from.
func Of(r *analysis.Result, st risk.Settings) ([]models.Signal, risk.Verdict) {
	sigs := Signals(r)
	return sigs, risk.Score(sigs, st)
}

// OfRecording is Of with the identity comparison a recording can have: the
// reference photo's descriptor (nil: none, no identity_reference signal).
// `livecheck analyze --reference` uses it.
func OfRecording(r *analysis.Result, ref *faceid.Descriptor, st risk.Settings) ([]models.Signal, risk.Verdict) {
	sigs := append(Signals(r), IdentitySignals(r.Identity, ref, nil)...)
	return sigs, risk.Score(sigs, st)
}

// ChallengeResult stores a verified challenge of a live session with its
// evidence image (JPEG, may be nil). Idempotent (unique challenge ids).
func (j *Judge) ChallengeResult(ctx context.Context, id int64, r challenge.Result, jpeg []byte, jpegAt time.Time) error {
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
	return j.cfg.Store.SaveChallenge(ctx, rec, ev)
}

// SessionEnded judges a live session and stores it: the network and device
// signals are added to the session's own (Signals), scored into a verdict,
// and the results, series, signals, verdict, detector windows, final status
// and the webhook event are stored in one transaction. Idempotent: the write
// queue retries it.
func (j *Judge) SessionEnded(ctx context.Context, r *analysis.Result) error {
	now := j.cfg.Now()
	sigs := Signals(r)
	if j.cfg.Checker != nil {
		ns, err := NetworkSignals(ctx, j.cfg.Store, j.cfg.Checker, j.cfg.ReuseDays, r.InterviewID, now)
		if err != nil {
			return err
		}
		sigs = append(sigs, ns...)
	}
	if r.Identity != nil {
		ref, others, err := identityInputs(ctx, j.cfg.Store, r.InterviewID, r.Identity.Model, now.AddDate(0, 0, -j.reuseDays()))
		if err != nil {
			return err
		}
		sigs = append(sigs, IdentitySignals(r.Identity, ref, others)...)
	}
	v := risk.Score(sigs, j.cfg.Risk)
	status := Status(r, v)
	return j.cfg.Store.InTx(ctx, func(tx *store.Store) error {
		if err := saveResult(ctx, tx, r, sigs, status); err != nil {
			return err
		}
		if err := tx.DeleteCheckpoint(ctx, r.InterviewID, r.StartedAt); err != nil { // stored: nothing to resume
			return err
		}
		if err := tx.SaveFaceTemplates(ctx, identityTemplates(r)); err != nil {
			return err
		}
		if err := tx.SaveSessionEvidence(ctx, identityEvidence(r)); err != nil {
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
			ScoringVersion: v.ScoringVersion, URL: fmt.Sprintf("%s/review/%d", j.cfg.BaseURL, r.InterviewID)}, now)
		return err
	})
}

// reuseDays is the look-back window of the face reuse check.
func (j *Judge) reuseDays() int {
	if j.cfg.ReuseDays <= 0 {
		return DefaultReuseDays
	}
	return j.cfg.ReuseDays
}

// Status is the interview's status after a session with verdict v: flagged
// when it failed or challenges were locked, interrupted when the server shut
// down during it, else completed.
func Status(r *analysis.Result, v risk.Verdict) models.InterviewStatus {
	switch {
	case r.Reason == models.EndInterrupted:
		return models.StatusInterrupted
	case r.Locked || v.Decision == risk.Failed:
		return models.StatusFlagged
	}
	return models.StatusCompleted
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
	rec, err := Record(id, v, signals, store.TriggerSessionEnd, now)
	if err != nil {
		return err
	}
	return tx.SaveVerdict(ctx, rec)
}

// Record is the stored form of verdict v of interview id, computed from
// signals signals at at (zero: the database's time) for trigger.
func Record(id int64, v risk.Verdict, signals int, trigger string, at time.Time) (*store.Verdict, error) {
	reasons, err := json.Marshal(v.Reasons)
	if err != nil {
		return nil, fmt.Errorf("verdict: reasons: %w", err)
	}
	return &store.Verdict{InterviewID: id, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
		ScoringVersion: v.ScoringVersion, ReviewAt: v.ReviewAt, FailAt: v.FailAt, Coverage: v.Coverage, SignalCount: signals,
		Trigger: trigger, ComputedAt: at}, nil
}
