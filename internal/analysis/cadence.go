package analysis

import (
	"math"
	"slices"
)

// Cadence is how regularly the candidate's camera source produced frames, judged from the RTP
// timestamps of frames that directly follow each other on the wire (every packet between them
// arrived, so no frame was lost on the network). A camera's sensor delivers frames on its own
// clock; a pipeline that processes every frame (a real-time face swap) and cannot keep up
// delivers fewer, at irregular times. A browser under CPU load lowers the resolution, not the
// frame rate, for camera tracks; a camera in low light halves its rate regularly, which the
// per-window base interval absorbs.
type Cadence struct {
	Intervals int     // timestamp steps between directly following frames
	Seconds   float64 // what they span
	Missing   float64 // frames the source would have produced at each window's base interval, but did not
	// Windows judged, and the sum and sum of squares of their missing shares: the spread of the
	// share from window to window, for Excess.
	Windows          int
	ShareSum, Share2 float64
}

// MissingShare is the share of the source's frames that never came: 0 for a steady source.
func (c Cadence) MissingShare() float64 {
	if c.Intervals == 0 {
		return 0
	}
	return c.Missing / (c.Missing + float64(c.Intervals))
}

// Excess is how far, in standard errors, the source's missing share lies above p0 (a share an
// honest camera is allowed to lose): the mean of the windows' shares minus p0, over the
// standard error of that mean estimated from the windows' own spread (floored at a binomial
// window's spread at p0). Measured window by window, a source's bursts of missing frames
// (a camera's hiccup, a tab switch) widen the spread and weaken the evidence, while a source
// that keeps skipping frames at the same share shows it in every window: the evidence then grows
// with the square root of the windows observed. 0 with fewer than two windows.
func (c Cadence) Excess(p0 float64) float64 {
	if c.Windows < 2 {
		return 0
	}
	n := float64(c.Windows)
	mean := c.ShareSum / n
	sd := math.Sqrt(math.Max(0, (c.Share2-n*mean*mean)/(n-1)))
	sd = math.Max(sd, math.Sqrt(p0*(1-p0)/cadenceWindow))
	return (mean - p0) / (sd / math.Sqrt(n))
}

// Cadence windows: the base interval is the mode of a window's steps (the step with the most
// steps within ±15 % of it, the smaller on a tie; then their median), not the median: a source
// that drops 40 % of its frames has 60 % of its steps at the base on average, but often half or
// fewer in a 32-step window, where the median jumps to twice the base. A frame sent late and
// the next one early, as from a busy sender, leave the mode where it was; and a window is short
// enough (about 2 s at 15 fps) to follow a camera that changes its rate.
const (
	cadenceWindow    = 32
	cadenceMinWindow = 8
	videoClockHz     = 90000
)

// add sums o into c.
func (c *Cadence) add(o Cadence) {
	c.Intervals += o.Intervals
	c.Seconds += o.Seconds
	c.Missing += o.Missing
	c.Windows += o.Windows
	c.ShareSum += o.ShareSum
	c.Share2 += o.Share2
}

// cadenceTracker judges one track's frames window by window; not safe for concurrent use.
type cadenceTracker struct {
	steps   []float64 // seconds, the current window
	scratch []float64
	haveTS  bool
	lastTS  uint32
}

// frame records one emitted frame's RTP timestamp; follows says that it directly follows the
// previous one on the wire. It returns a window's judgement when one is complete.
func (t *cadenceTracker) frame(ts uint32, follows bool) (Cadence, bool) {
	defer func() { t.haveTS, t.lastTS = true, ts }()
	if !t.haveTS || !follows {
		return Cadence{}, false
	}
	step := float64(ts-t.lastTS) / videoClockHz // uint32 arithmetic: wraps
	if step <= 0 || step >= 1 {                 // a second or more: a pause, not a cadence
		return Cadence{}, false
	}
	t.steps = append(t.steps, step)
	if len(t.steps) < cadenceWindow {
		return Cadence{}, false
	}
	return t.flush(), true
}

// flush judges the current window (nothing when it is too short) and starts the next.
func (t *cadenceTracker) flush() Cadence {
	defer func() { t.steps = t.steps[:0] }()
	if len(t.steps) < cadenceMinWindow {
		return Cadence{}
	}
	base := t.base()
	var c Cadence
	for _, s := range t.steps {
		c.Seconds += s
	}
	// The source's steps add up to Seconds: at the base interval that is Seconds/base frames,
	// of which len(steps) came. A late frame followed by an early one misses nothing.
	c.Missing = math.Max(0, c.Seconds/base-float64(len(t.steps)))
	c.Intervals = len(t.steps)
	share := c.MissingShare()
	c.Windows, c.ShareSum, c.Share2 = 1, share, share*share
	return c
}

// base is the mode of the window's steps (see the cadence window constants).
func (t *cadenceTracker) base() float64 {
	t.scratch = append(t.scratch[:0], t.steps...)
	slices.Sort(t.scratch)
	st := t.scratch
	best, bestN := 0, 0
	for i, s := range st {
		n := 0
		for _, o := range st {
			if math.Abs(o-s) <= 0.15*s {
				n++
			}
		}
		if n > bestN { // ascending: the smaller step wins a tie
			best, bestN = i, n
		}
	}
	lo, hi := best, best
	for lo > 0 && st[best]-st[lo-1] <= 0.15*st[best] {
		lo--
	}
	for hi < len(st)-1 && st[hi+1]-st[best] <= 0.15*st[best] {
		hi++
	}
	return st[(lo+hi)/2]
}
