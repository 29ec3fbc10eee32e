package app

import (
	"context"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
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

// loadFaceModel loads the face recogniser converted by scripts/setup.sh
// (LIVECHECK_FACE_MODEL) once; a missing or altered file is a clear
// start-up error.
func loadFaceModel(cfg *config.Config) (*faceid.Model, error) {
	path := cfg.FaceModel
	if path == "" {
		path = faceid.DefaultModelPath()
	}
	m, err := faceid.LoadModel(path, 0)
	if err != nil {
		return nil, fmt.Errorf("app: face model (LIVECHECK_FACE_MODEL): %w", err)
	}
	return m, nil
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

// analysisStore stores what live analyses produce: the judged session (then
// its end in the audit log) and each verified challenge.
func analysisStore(st *store.Store, judge *verdict.Judge, node string) analysis.Store {
	return analysis.Store{
		SessionEnded: func(ctx context.Context, r *analysis.Result) error {
			if err := judge.SessionEnded(ctx, r); err != nil {
				return err
			}
			return auditSessionEnd(ctx, st, r)
		},
		ChallengeResult: judge.ChallengeResult,
		Checkpoint: func(ctx context.Context, cp *analysis.Checkpoint) error {
			return verdict.SaveCheckpoint(ctx, st, node, cp)
		},
		Resume: func(ctx context.Context, id int64) (*analysis.Checkpoint, error) { return verdict.Resume(ctx, st, id) },
	}
}

// The live analysis is what the rooms feed.
var _ room.Analysis = (*analysis.Session)(nil)
