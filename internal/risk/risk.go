// Package risk turns the evidence of one interview (passive detector
// signals, challenge results, room and network signals, all as
// models.Signal) into a verdict: a 0–100 score, a decision (verified, review,
// failed) and the reasons, ordered by how many points each contributed.
//
// # Scoring
//
// Each signal's evidence is e = Score × Confidence (both clamped to 0..1).
// Signals of the same kind combine as a noisy-OR, E = 1 − Π(1 − eᵢ), and the
// kinds combine with their weights w (the largest share of the score one
// kind can take):
//
//	risk  = 1 − Π_kinds (1 − w·E)
//	score = 100 · risk, rounded to 0.1
//
// So one strong, specific cue can carry the score, many weak cues add up
// slowly, and no kind can exceed its weight on its own. The score is split
// into per-signal points in proportion to −ln(1 − w·E) (the additive form of
// the noisy-OR), shared inside a kind by −ln(1 − eᵢ); the points of all
// reasons sum to the score.
//
// # Decision
//
// failed when score ≥ Settings.FailAt, review when score ≥ Settings.ReviewAt,
// else verified — except that "verified" needs evidence: at least one
// liveness signal (a passive video detector, a challenge, face presence or
// the voice detector) with Confidence ≥ Settings.MinCoverage. Without it the
// decision is review with a "coverage" reason (the score is unchanged).
//
// # Determinism
//
// Score sorts its input, sums in a fixed order and rounds, so the same
// signals and settings always give the same verdict on any machine. A
// verdict records ScoringVersion and its thresholds; `livecheck rescore`
// recomputes verdicts from the stored signals.
package risk

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// ScoringVersion names the weights and rules of this package. Change it
// whenever a weight, a rule or the combination changes, so stored verdicts
// show which rules made them. risk-2: the identity_ kinds (risk-1 weighed
// them by DefaultWeight and had reuse_face, which they replace). risk-3: motion_stall weighs
// 0.5 (a virtual camera repeating a late face swap's frames, REDTEAM.md finding 16).
const ScoringVersion = "risk-3"

// Decision is the outcome of a verdict.
type Decision string

// Decisions.
const (
	Verified Decision = "verified"
	Review   Decision = "review"
	Failed   Decision = "failed"
)

// Settings are the thresholds of the decision. The zero value means the
// defaults; see DefaultSettings.
type Settings struct {
	// ReviewAt is the score (0–100) from which a session goes to review.
	ReviewAt float64
	// FailAt is the score from which a session fails.
	FailAt float64
	// MinCoverage is the confidence at least one liveness signal must have
	// for a session to be verified.
	MinCoverage float64
	// Weights overrides the weight of signal kinds (see Weight). Overrides
	// change the verdict's scoring version.
	Weights map[string]float64
}

// Default thresholds.
const (
	DefaultReviewAt    = 30
	DefaultFailAt      = 70
	DefaultMinCoverage = 0.2
)

// DefaultSettings returns the default thresholds.
func DefaultSettings() Settings {
	return Settings{ReviewAt: DefaultReviewAt, FailAt: DefaultFailAt, MinCoverage: DefaultMinCoverage}
}

func (s Settings) withDefaults() Settings {
	if s.ReviewAt == 0 {
		s.ReviewAt = DefaultReviewAt
	}
	if s.FailAt == 0 {
		s.FailAt = DefaultFailAt
	}
	if s.MinCoverage == 0 {
		s.MinCoverage = DefaultMinCoverage
	}
	return s
}

// Validate reports settings that cannot give sensible decisions.
func (s Settings) Validate() error {
	s = s.withDefaults()
	var errs []error
	if !(s.ReviewAt > 0 && s.ReviewAt < s.FailAt && s.FailAt <= 100) {
		errs = append(errs, fmt.Errorf("risk: thresholds must satisfy 0 < review (%g) < fail (%g) <= 100", s.ReviewAt, s.FailAt))
	}
	if s.MinCoverage < 0 || s.MinCoverage > 1 {
		errs = append(errs, fmt.Errorf("risk: min coverage %g outside 0..1", s.MinCoverage))
	}
	for k, w := range s.Weights {
		if !(w >= 0 && w < 1) {
			errs = append(errs, fmt.Errorf("risk: weight of %q is %g, want 0 <= w < 1", k, w))
		}
	}
	return errors.Join(errs...)
}

// Version is the scoring version of verdicts made with s: ScoringVersion,
// plus a digest of the weight overrides when there are any.
func (s Settings) Version() string {
	if len(s.Weights) == 0 {
		return ScoringVersion
	}
	keys := make([]string, 0, len(s.Weights))
	for k := range s.Weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%.6g;", k, s.Weights[k])
	}
	return ScoringVersion + "+w" + hex.EncodeToString(h.Sum(nil))[:8]
}

// Reason is one signal's part in a verdict.
type Reason struct {
	// Kind is the signal kind.
	Kind string `json:"kind"`
	// Text is the signal's human-readable reason.
	Text string `json:"text"`
	// Points is the signal's share of the score (all reasons sum to the score).
	Points float64 `json:"points"`
	// Weight is the kind's weight.
	Weight float64 `json:"weight"`
	// Evidence is Score × Confidence of the signal.
	Evidence float64 `json:"evidence"`
	// At is the signal's evidence time (zero when session-wide).
	At time.Time `json:"at,omitzero"`
}

// Verdict is the risk engine's judgement of one session.
type Verdict struct {
	// Score is 0 (no sign of fraud) .. 100.
	Score float64 `json:"score"`
	// Decision follows from Score and the thresholds (and coverage).
	Decision Decision `json:"decision"`
	// Reasons lists every signal, most points first.
	Reasons []Reason `json:"reasons"`
	// ScoringVersion names the rules (see Settings.Version).
	ScoringVersion string `json:"scoring_version"`
	// ReviewAt and FailAt are the thresholds the decision used.
	ReviewAt float64 `json:"review_at"`
	FailAt   float64 `json:"fail_at"`
	// Coverage is the highest confidence of a liveness signal.
	Coverage float64 `json:"coverage"`
}

// Score computes the verdict of a set of signals. It does not modify
// signals. Settings are used as given (zero fields take the defaults);
// call Settings.Validate first for user input.
func Score(signals []models.Signal, st Settings) Verdict {
	st = st.withDefaults()
	sigs := slices.Clone(signals)
	slices.SortFunc(sigs, compareSignals)

	type kindAgg struct {
		kind   string
		weight float64
		logs   []float64 // −ln(1 − eᵢ) per signal
		ev     []float64
		idx    []int
		total  float64 // −ln(1 − w·E)
	}
	var kinds []*kindAgg
	byKind := map[string]*kindAgg{}
	coverage := 0.0
	for i, sg := range sigs {
		k := byKind[sg.Kind]
		if k == nil {
			k = &kindAgg{kind: sg.Kind, weight: st.weight(sg.Kind)}
			byKind[sg.Kind] = k
			kinds = append(kinds, k)
		}
		e := dsp.Clamp01(sg.Score) * dsp.Clamp01(sg.Confidence)
		k.ev = append(k.ev, e)
		k.logs = append(k.logs, -math.Log1p(-math.Min(e, 1-1e-9)))
		k.idx = append(k.idx, i)
		if IsLiveness(sg.Kind) {
			coverage = math.Max(coverage, dsp.Clamp01(sg.Confidence))
		}
	}
	var sumLog float64
	for _, k := range kinds {
		E := 1.0
		for _, e := range k.ev {
			E *= 1 - e
		}
		E = 1 - E
		k.total = -math.Log1p(-math.Min(k.weight*E, 1-1e-9))
		sumLog += k.total
	}
	risk := 1 - math.Exp(-sumLog)
	score := math.Round(1000*risk) / 10

	v := Verdict{Score: score, ScoringVersion: st.Version(), ReviewAt: st.ReviewAt, FailAt: st.FailAt,
		Coverage: math.Round(1000*coverage) / 1000}
	for _, k := range kinds {
		var kl float64
		for _, l := range k.logs {
			kl += l
		}
		for j, i := range k.idx {
			var pts float64
			if sumLog > 0 && k.total > 0 {
				share := 1 / float64(len(k.idx))
				if kl > 0 {
					share = k.logs[j] / kl
				}
				pts = score * k.total / sumLog * share
			}
			sg := sigs[i]
			v.Reasons = append(v.Reasons, Reason{Kind: sg.Kind, Text: sg.Reason, Points: math.Round(100*pts) / 100,
				Weight: k.weight, Evidence: math.Round(1000*k.ev[j]) / 1000, At: sg.At})
		}
	}
	slices.SortStableFunc(v.Reasons, func(a, b Reason) int {
		if c := cmp.Compare(b.Points, a.Points); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	switch {
	case score >= st.FailAt:
		v.Decision = Failed
	case score >= st.ReviewAt:
		v.Decision = Review
	case coverage < st.MinCoverage:
		v.Decision = Review
		v.Reasons = append(v.Reasons, Reason{Kind: "coverage", Weight: 0,
			Text: fmt.Sprintf("not enough evidence to verify: the most confident liveness signal has confidence %.2f (need %.2f)", coverage, st.MinCoverage)})
	default:
		v.Decision = Verified
	}
	return v
}

// compareSignals orders signals by every field, so that Score does not
// depend on the order it is given them.
func compareSignals(a, b models.Signal) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		a.At.Compare(b.At),
		cmp.Compare(a.Score, b.Score),
		cmp.Compare(a.Confidence, b.Confidence),
		cmp.Compare(a.Value, b.Value),
		strings.Compare(a.Reason, b.Reason),
	)
}
