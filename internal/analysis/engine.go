package analysis

import (
	"context"
	"log/slog"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// FrameAnalyzer measures one decoded frame (internal/vision's Analyzer). One
// per session; not shared.
type FrameAnalyzer interface {
	Measure(f *models.Frame) (models.Observation, error)
	Close() error
}

// Outlet is how a live session talks back: prompts to the candidate's page
// (the room's control channel) and events to the staff pages.
type Outlet interface {
	SendCandidate(v any) error
	BroadcastStaff(m signal.Message)
	// ChallengeChanged says that a challenge was issued or verified (the
	// staff pages show the new ChallengeState).
	ChallengeChanged()
}

// Stage is one more consumer of a session's analysed frames, beside the
// built-in passive detectors and challenges (face identity, for example).
// Each session has its own instance, fed from the session's one analysis
// goroutine; a panic in a stage ends that session's analysis only.
type Stage interface {
	// Frame takes one analysed frame and its observation; f is valid only
	// during the call.
	Frame(f *models.Frame, o models.Observation)
	// Signals returns the stage's evidence when the session ends.
	Signals() []models.Signal
}

// StageFactory adds a Stage to every session.
type StageFactory struct {
	// Name identifies the stage in logs.
	Name string
	// Every is the stage's own sampling: it sees at most one analysed frame
	// per Every (0: every analysed frame).
	Every time.Duration
	// New makes the stage of one session.
	New func(interviewID int64) (Stage, error)
}

// Store persists what a live session produces. Both functions are called
// from the write queue, in order, and retried until they succeed: they must
// be idempotent.
type Store struct {
	// SessionEnded stores the session's results (with the verdict).
	SessionEnded func(ctx context.Context, r *Result) error
	// ChallengeResult stores a verified challenge and its evidence image
	// (JPEG, may be nil).
	ChallengeResult func(ctx context.Context, interviewID int64, r challenge.Result, jpeg []byte, jpegAt time.Time) error
	// Checkpoint stores one part of a live session's checkpoint (an upsert
	// of the latest state; see Checkpoint). Nil: no checkpoints.
	Checkpoint func(ctx context.Context, cp *Checkpoint) error
	// Resume returns the checkpoint of the interview's session that stopped
	// without storing its results (its node died), with its stored challenge
	// results, or nil. Called, not through the write queue, when a live
	// session opens. Nil: sessions always start afresh.
	Resume func(ctx context.Context, interviewID int64) (*Checkpoint, error)
}

// ChallengeConfig enables randomized liveness challenges in every session.
type ChallengeConfig struct {
	Enabled bool
	// LockAfter stops challenges after this many failures (0: never), so that a
	// forger cannot retry until one passes; the session then needs review.
	LockAfter int
	Plan      challenge.PlanConfig
	Runner    challenge.RunnerConfig
}

// Config configures the analysis of every session.
type Config struct {
	// AnalysisFPS is the passive analysis rate (frames per second on
	// average, Session.due; every frame is analysed while a challenge
	// runs). Default 5.5: issue 17 wants at least 5 between challenges,
	// and the rate kept on average leaves 10 % for frames a newer one
	// replaces in the mailbox when the analysis is behind (2 % at N = 30,
	// docs/BENCH.md); 6 would cost about 4 % of a core more at N = 30 and
	// put the full pipeline at the 2× of the decode floor. Negative: every
	// frame.
	AnalysisFPS float64
	Logger      *slog.Logger
	Now         func() time.Time
	// NewAnalyzer creates the per-session frame analyser; nil disables video
	// analysis (frames are still decoded and counted).
	NewAnalyzer func() (FrameAnalyzer, error)
	// EncodeEvidence makes the JPEG face crop kept as challenge evidence.
	EncodeEvidence func(f *models.Frame, face models.Rect) ([]byte, error)
	Challenges     ChallengeConfig
	// Detectors runs the passive detectors (internal/detect) on every
	// analysed frame and the audio, configured by Detect.
	Detectors bool
	Detect    detect.Config
	// Stages are further consumers of the analysed frames.
	Stages []StageFactory
	// Identity adds the face-identity stage (after Stages) when its Model is set.
	Identity IdentityConfig
	// Gate bounds the frames analysed at once across sessions; nil: no bound.
	Gate *Gate
	// DecodeNice, when positive, runs each live video track's decoding on
	// its own OS thread at this much higher a nice value (Linux), so that
	// the frames' analysis, which holds the Gate's slots and whose latency
	// counts, takes the cores first when both want them. Decoding must keep
	// up on average but no one waits for most of it (the analysis takes 6 of
	// 15 frames a second); shared fairly, 30 decoders made each analysed
	// frame's measurement take about twice its CPU time (docs/BENCH.md).
	// 0: the process's priority.
	DecodeNice int
	// DecodeAll decodes every video frame, also those no later frame depends
	// on, which are otherwise skipped outside challenge windows
	// (videoPipe.skippable; LIVECHECK_DECODE_SKIP=off).
	DecodeAll bool
	// ChallengeQueue bounds the frames a live session holds for analysis
	// (challenge-window frames wait in order; see frameQueue). Default
	// DefaultChallengeQueue.
	ChallengeQueue int
	// Writes queues what live sessions store, through Store.
	Writes *writeq.Queue
	Store  Store

	embeds *embedPool // the live sessions' identity embeddings (New)
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AnalysisFPS == 0 {
		c.AnalysisFPS = 5.5
	}
	return c
}

// Engine opens the analysis sessions of live interviews.
type Engine struct {
	cfg Config
}

// New returns an engine.
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	if cfg.Identity.Model != nil && cfg.Identity.Workers >= 0 {
		cfg.embeds = newEmbedPool(cfg.Identity.Workers)
	}
	return &Engine{cfg: cfg}
}

// Open starts the analysis of a live interview whose prompts and events go
// to out. The session lasts across the candidate's reconnects until End.
func (e *Engine) Open(interviewID int64, out Outlet) *Session {
	return newSession(e.cfg, interviewID, out, true)
}

// ChallengeState is the challenge state of an interview whose candidate has
// not joined yet: what the configuration plans.
func (e *Engine) ChallengeState() wire.ChallengeState { return plannedChallenges(e.cfg.Challenges) }
