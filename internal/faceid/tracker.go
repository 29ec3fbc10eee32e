package faceid

import (
	"math"
	"time"
)

// TrackerConfig configures a Tracker. The zero value uses the defaults.
type TrackerConfig struct {
	// ChangeDistance: a sample farther than this from the current identity's
	// template does not belong to it (default DefaultChangeDistance).
	ChangeDistance float64
	// Confirm is how many consecutive samples must disagree with the current
	// identity, and agree with each other, before a change is reported
	// (default 2): one odd frame is not another person.
	Confirm int
	// MaxTemplate bounds the samples averaged into an identity's template
	// (default 30; later samples update it as a running mean).
	MaxTemplate int
	// UnsteadyDistance is ChangeDistance for Unsteady samples (default
	// DefaultUnsteadyDistance).
	UnsteadyDistance float64
	// TemplateMaxYaw: a sample turned farther (|yaw|, degrees) never shapes
	// a template (default DefaultGate.MaxYaw): the challenges' identity
	// samples reach beyond the steady gate (SessionConfig.ChallengeMaxYaw)
	// to compare the extreme of a turn, not to learn from it.
	TemplateMaxYaw float64
}

// DefaultUnsteadyDistance: a turned or half-covered face of the same person
// came within 0.71 of the session's identity in the red team's measurements
// (docs/REDTEAM.md), the operator's own face under a dropping swap at
// 0.76–0.87; the challenges' identity check uses the same limit.
const DefaultUnsteadyDistance = 0.75

// DefaultChangeDistance separates the samples of one person from another's
// on the development set (docs/EVAL.md, "Identity").
const DefaultChangeDistance = 0.50

func (c TrackerConfig) withDefaults() TrackerConfig {
	if c.ChangeDistance <= 0 {
		c.ChangeDistance = DefaultChangeDistance
	}
	if c.Confirm <= 0 {
		c.Confirm = 2
	}
	if c.MaxTemplate <= 0 {
		c.MaxTemplate = 30
	}
	if c.TemplateMaxYaw <= 0 {
		c.TemplateMaxYaw = DefaultGate.MaxYaw
	}
	if c.UnsteadyDistance < c.ChangeDistance {
		c.UnsteadyDistance = max(DefaultUnsteadyDistance, c.ChangeDistance)
	}
	return c
}

// Identity is one stretch of the session with the same face: the mean of
// its samples and when it was seen.
type Identity struct {
	Template    Descriptor
	Samples     int
	First, Last time.Time
	// Best is the sharpest near-frontal sample (|yaw| and |pitch| ≤ 15°,
	// else the most frontal): its JPEG is the identity's evidence image.
	Best Sample
	sum  [Dims]float64
}

// better reports whether s makes better evidence than the identity's Best.
func (id *Identity) better(s Sample) bool {
	if id.Samples == 0 || id.Best.At.IsZero() { // none yet (or restored without images: Tracker.Restore)
		return true
	}
	frontal := func(x Sample) bool { return math.Abs(x.Yaw) <= 15 && math.Abs(x.Pitch) <= 15 }
	switch fs, fb := frontal(s), frontal(id.Best); {
	case fs && fb:
		return s.Sharpness > id.Best.Sharpness
	case fs != fb:
		return fs
	}
	return math.Abs(s.Yaw)+math.Abs(s.Pitch) < math.Abs(id.Best.Yaw)+math.Abs(id.Best.Pitch)
}

func (id *Identity) add(s Sample, maxN int) {
	if id.better(s) {
		id.Best = s
	}
	if id.Samples == 0 {
		id.First = s.At
	}
	id.Last = s.At
	id.Samples++
	n := float64(min(id.Samples, maxN))
	for i := range id.sum {
		// running mean over at most maxN samples
		id.sum[i] += (float64(s.D[i]) - id.sum[i]) / n
		id.Template[i] = float32(id.sum[i])
	}
}

// Change is a confirmed change of identity: Before is the last sample that
// matched the previous identity, After the first sample of the new one;
// Distance is between the two identities' templates at confirmation.
// Returning is the index of an earlier identity the new face matches (the
// first face came back, as when a face swap drops out and resumes), or −1.
type Change struct {
	Before, After Sample
	Distance      float64
	From, To      int // indexes into Identities()
	Returning     int
}

// Tracker follows the identity of the face through a session from embedded
// samples (in time order). It keeps one Identity per stretch of the same
// face and reports a Change when Confirm consecutive samples are farther
// than ChangeDistance from the current identity, close to each other, and
// their mean is also farther than ChangeDistance from the identity's
// template.
// Not safe for concurrent use.
type Tracker struct {
	cfg      TrackerConfig
	ids      []*Identity
	cur      int
	last     Sample // last sample that matched the current identity
	pending  []Sample
	changes  []Change
	outliers int
	samples  int
	history  []Point
}

// Point is one sample's distance to the identity current when it came.
type Point struct {
	At       time.Time
	Distance float64
}

// maxHistory bounds the distance history (a 30-minute interview at one
// sample per second and denser in challenges stays well below it).
const maxHistory = 20000

// NewTracker returns a tracker with no identity yet.
func NewTracker(cfg TrackerConfig) *Tracker {
	return &Tracker{cfg: cfg.withDefaults(), cur: -1}
}

// Add folds a sample in. It returns the change this sample confirmed, if
// any.
func (t *Tracker) Add(s Sample) (Change, bool) {
	t.samples++
	if t.cur >= 0 && len(t.history) < maxHistory {
		t.history = append(t.history, Point{At: s.At, Distance: Distance(s.D, t.ids[t.cur].Template)})
	}
	if t.cur < 0 {
		t.ids = append(t.ids, &Identity{})
		t.cur = 0
		t.ids[0].add(s, t.cfg.MaxTemplate)
		t.last = s
		return Change{}, false
	}
	id := t.ids[t.cur]
	d := Distance(s.D, id.Template)
	far := math.Abs(s.Yaw) > t.cfg.TemplateMaxYaw
	if d <= t.cfg.ChangeDistance && !far {
		t.outliers += len(t.pending)
		t.pending = t.pending[:0]
		id.add(s, t.cfg.MaxTemplate)
		t.last = s
		return Change{}, false
	}
	if (s.Unsteady || far) && d <= t.cfg.UnsteadyDistance {
		// A turned, covered or moving face of the same person, farther
		// than a steady one would be: it ends a pending change but does
		// not shape the template.
		t.outliers += len(t.pending)
		t.pending = t.pending[:0]
		return Change{}, false
	}
	// Disagrees with the current identity: pending, as long as the pending
	// samples agree with each other.
	if len(t.pending) > 0 && Distance(s.D, mean(t.pending)) > t.cfg.ChangeDistance {
		t.outliers += len(t.pending)
		t.pending = t.pending[:0]
	}
	t.pending = append(t.pending, s)
	if len(t.pending) < t.cfg.Confirm {
		return Change{}, false
	}
	next := &Identity{}
	for _, p := range t.pending {
		next.add(p, t.cfg.MaxTemplate)
	}
	c := Change{Before: t.last, After: t.pending[0], Distance: Distance(id.Template, next.Template), From: t.cur, Returning: -1}
	if c.Distance <= t.cfg.ChangeDistance {
		// Each sample was far from the template but their mean is not: the
		// template was young or noisy (an expression, a pose), the person
		// is the same. Fold them in (but the turned beyond TemplateMaxYaw).
		for _, p := range t.pending {
			if math.Abs(p.Yaw) <= t.cfg.TemplateMaxYaw {
				id.add(p, t.cfg.MaxTemplate)
			}
		}
		t.last = t.pending[len(t.pending)-1]
		t.pending = t.pending[:0]
		return Change{}, false
	}
	for i, old := range t.ids {
		if i != t.cur && Distance(old.Template, next.Template) <= t.cfg.ChangeDistance {
			c.Returning = i
			break
		}
	}
	if c.Returning >= 0 {
		for _, p := range t.pending {
			t.ids[c.Returning].add(p, t.cfg.MaxTemplate)
		}
		t.cur = c.Returning
	} else {
		t.ids = append(t.ids, next)
		t.cur = len(t.ids) - 1
	}
	c.To = t.cur
	t.last = t.pending[len(t.pending)-1]
	t.pending = t.pending[:0]
	t.changes = append(t.changes, c)
	return c, true
}

// mean is the mean descriptor of samples.
func mean(samples []Sample) Descriptor {
	var sum [Dims]float64
	for _, s := range samples {
		for i, v := range s.D {
			sum[i] += float64(v)
		}
	}
	var d Descriptor
	for i := range d {
		d[i] = float32(sum[i] / float64(len(samples)))
	}
	return d
}

// Changes lists the confirmed changes in order.
func (t *Tracker) Changes() []Change { return append([]Change(nil), t.changes...) }

// Identities lists the identities seen, in order of appearance (copies).
func (t *Tracker) Identities() []Identity {
	out := make([]Identity, len(t.ids))
	for i, id := range t.ids {
		out[i] = *id
	}
	return out
}

// Main is the identity seen in the most samples (the session's template
// for reuse and reference checks); ok is false before any sample.
func (t *Tracker) Main() (Identity, bool) {
	best := -1
	for i, id := range t.ids {
		if best < 0 || id.Samples > t.ids[best].Samples {
			best = i
		}
	}
	if best < 0 {
		return Identity{}, false
	}
	return *t.ids[best], true
}

// Current is the template of the identity current now; ok is false before any sample.
func (t *Tracker) Current() (Descriptor, bool) {
	if t.cur < 0 {
		return Descriptor{}, false
	}
	return t.ids[t.cur].Template, true
}

// Samples is how many samples were added.
func (t *Tracker) Samples() int { return t.samples }

// Outliers is how many samples disagreed with the current identity without
// becoming a change.
func (t *Tracker) Outliers() int { return t.outliers }

// Window is the largest distance to the then-current identity among the
// samples taken in [from, to], and how many there were: a challenge's
// before/during/after identity check.
func (t *Tracker) Window(from, to time.Time) (maxDistance float64, n int) {
	for _, p := range t.history {
		if !p.At.Before(from) && !p.At.After(to) {
			maxDistance = math.Max(maxDistance, p.Distance)
			n++
		}
	}
	return maxDistance, n
}

// History is every sample's distance to the identity current when it came
// (the first sample has none), in time order: a timeline series for
// reviewers. A copy.
func (t *Tracker) History() []Point { return append([]Point(nil), t.history...) }
