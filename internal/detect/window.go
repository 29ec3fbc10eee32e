package detect

import (
	"math"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Window is one detector's score over a stretch of the session (Config.Window
// long, the last one possibly shorter).
type Window struct {
	// Kind is the detector's signal kind.
	Kind string `json:"kind"`
	// From and To are the capture times of the first and last frame scored.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Score is 0 (looks genuine) .. 1 (looks forged).
	Score float64 `json:"score"`
	// Confidence is 0..1, how much the window's score can be trusted.
	Confidence float64 `json:"confidence"`
	// Value is the detector's raw measure for the window (see the kind's doc).
	Value float64 `json:"value"`
}

// windowScore is what a detector reports for its current window.
type windowScore struct {
	Score, Confidence, Value float64
}

// detector is one passive video detector. The Suite feeds it every analysed
// frame, asks for the score of the current window when the window ends (and
// then resets it), and finally condenses all windows into one signal.
type detector interface {
	kind() string
	// add accumulates one analysed frame into the current window.
	add(fc *frameCtx)
	// score returns the current window's score; ok is false when the window
	// holds nothing the detector can judge.
	score() (ws windowScore, ok bool)
	// reset starts a new window (state that spans windows is kept).
	reset()
	// signal condenses the windows (closed ones and the current partial one)
	// into the session-level signal.
	signal(ws []Window) models.Signal
	// features are the detector's raw session measures, for reports and tuning.
	features() map[string]float64
}

// aggregate combines window scores: a confidence-weighted mean score, a
// session confidence that grows as windows agree (1 − Π(1 − cᵢ), capped at
// capConf: each window is a separate look at the session), the window with
// the highest score and how many windows scored at least 0.5.
func aggregate(ws []Window, capConf float64) (score, conf float64, top Window, flagged int) {
	var sc, sw float64
	miss := 1.0
	for i, w := range ws {
		sc += w.Confidence * w.Score
		sw += w.Confidence
		miss *= 1 - w.Confidence
		if i == 0 || w.Score > top.Score {
			top = w
		}
		if w.Score >= 0.5 && w.Confidence > 0 {
			flagged++
		}
	}
	if sw <= 0 {
		return 0, 0, top, 0
	}
	score = sc / sw
	conf = capConf * (1 - miss)
	return score, conf, top, flagged
}

// round3 keeps three decimals, so reports and stored signals stay readable
// and deterministic across platforms.
func round3(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return math.Round(x*1000) / 1000
}
