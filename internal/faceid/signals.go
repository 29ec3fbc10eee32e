package faceid

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Signal kinds of this package (models.Signal.Kind). Every identity reason
// starts with "identity_".
const (
	KindChange    = "identity_change"    // the face on camera became another person's during the session
	KindReuse     = "identity_reuse"     // the same face was seen for another candidate
	KindReference = "identity_reference" // the face compared with the candidate's reference photo
)

// Thresholds on the Euclidean distance between templates (docs/EVAL.md,
// "Identity"). On the development set every pair of different people's
// session templates was at least 0.50 apart and every same-person pair at
// most 0.28; cross-session same-person distances (a re-interview, an ID
// photo) could not be measured there and are larger.
const (
	// ReuseDistance: two sessions' templates this close are the same face.
	// Below every different-person pair of the devset (min 0.50), so that a
	// reuse accusation needs a close match.
	ReuseDistance = 0.45
	// ReferenceMatch and ReferenceMismatch bound the inconclusive band of
	// the reference-photo comparison: at most ReferenceMatch is the same
	// person; at least ReferenceMismatch (dlib's own threshold for different
	// photos of people, 99.4 % accurate on LFW) is another person.
	ReferenceMatch    = 0.45
	ReferenceMismatch = 0.60
)

// minSamples is how many samples a session needs before its identity
// signals carry full confidence.
const minSamples = 10

// clock formats t as minutes:seconds since start.
func clock(t, start time.Time) string {
	d := t.Sub(start)
	if start.IsZero() || d < 0 {
		return t.UTC().Format("15:04:05")
	}
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// ChangeSignal summarises a tracker's changes as the identity_change
// signal; times in the reason are relative to start (the session start).
// ok is false when no face was embedded at all.
func ChangeSignal(t *Tracker, start time.Time) (models.Signal, bool) {
	n := t.Samples()
	if n == 0 {
		return models.Signal{}, false
	}
	conf := math.Min(1, 0.4+0.6*float64(n)/minSamples)
	changes := t.Changes()
	if len(changes) == 0 {
		return models.Signal{Kind: KindChange, Score: 0, Confidence: round3(conf * 0.8),
			Reason: fmt.Sprintf("The same person was on camera throughout (%d face samples compared).", n)}, true
	}
	var parts []string
	best := 0.0
	for i, c := range changes {
		best = math.Max(best, c.Distance)
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(changes)-3))
			break
		}
		what := "a different person appeared"
		if c.Returning >= 0 {
			what = "an earlier face came back"
		}
		parts = append(parts, fmt.Sprintf("at %s %s (the previous face was last seen at %s; distance %.2f, same-person limit %.2f)",
			clock(c.After.At, start), what, clock(c.Before.At, start), c.Distance, t.cfg.ChangeDistance))
	}
	return models.Signal{Kind: KindChange, Value: round3(best), Score: 0.9, Confidence: round3(conf),
		At:     changes[0].After.At,
		Reason: "The person on camera changed during the interview: " + strings.Join(parts, "; ") + ". Compare the two images."}, true
}

// Candidate is another interview's stored template, for the reuse check.
// Biometric: never log it.
type Candidate struct {
	InterviewID int64
	At          time.Time
	D           Descriptor
}

// ReuseSignal compares a session's template with other interviews'
// templates (already filtered to other candidates, the look-back window and
// pairs no reviewer marked as the same person legitimately). A match at
// most ReuseDistance is the identity_reuse signal naming the interviews;
// ok is false without other templates.
func ReuseSignal(self Descriptor, others []Candidate) (models.Signal, bool) {
	if len(others) == 0 {
		return models.Signal{}, false
	}
	best := math.Inf(1)
	var hits []string
	seen := map[int64]bool{}
	for _, o := range others {
		d := Distance(self, o.D)
		best = math.Min(best, d)
		if d <= ReuseDistance && !seen[o.InterviewID] {
			seen[o.InterviewID] = true
			hits = append(hits, fmt.Sprintf("interview %d on %s (distance %.2f)", o.InterviewID, o.At.UTC().Format("2006-01-02"), d))
		}
	}
	sg := models.Signal{Kind: KindReuse, Value: round3(best), Confidence: 0.8}
	if len(hits) == 0 {
		sg.Reason = fmt.Sprintf("The face matches no other candidate's (%d compared).", len(others))
		return sg, true
	}
	sg.Score = round3(0.8 + 0.15*math.Min(1, (ReuseDistance-best)/ReuseDistance*2))
	sg.Reason = fmt.Sprintf("The same face was seen under another candidate's name: %s. One person may be interviewing as several candidates; a reviewer can mark a legitimate re-interview.",
		strings.Join(hits, ", "))
	return sg, true
}

// ReferenceSignal compares a session's template with the descriptor of the
// candidate's reference photo. No reference means no signal (the caller
// does not call it): never a penalty.
func ReferenceSignal(live, ref Descriptor) models.Signal {
	d := Distance(live, ref)
	sg := models.Signal{Kind: KindReference, Value: round3(d)}
	switch {
	case d <= ReferenceMatch:
		sg.Confidence = 0.8
		sg.Reason = fmt.Sprintf("The face on camera matches the reference photo (distance %.2f; same person below %.2f).", d, ReferenceMatch)
	case d >= ReferenceMismatch:
		sg.Score = round3(math.Min(0.95, 0.7+(d-ReferenceMismatch)))
		sg.Confidence = 0.8
		sg.Reason = fmt.Sprintf("The face on camera does not match the reference photo (distance %.2f; different people above %.2f). Compare the two images.", d, ReferenceMismatch)
	default:
		sg.Score = 0.3
		sg.Confidence = 0.4
		sg.Reason = fmt.Sprintf("The face on camera neither clearly matches nor clearly differs from the reference photo (distance %.2f, between %.2f and %.2f): an old or low-quality photo can do this. Compare the two images.",
			d, ReferenceMatch, ReferenceMismatch)
	}
	return sg
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
