package voice

import (
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// TimedValue is one sample of a time series on the server clock, such as the
// mouth-opening ratio of a video frame or the level of an audio frame.
type TimedValue struct {
	// At is the sample time on the server clock.
	At time.Time
	// Value is the measurement (any unit; AVOffset normalises it away).
	Value float64
}

// A/V sync parameters.
const (
	avStep       = 20 * time.Millisecond // common grid: 50 Hz
	avMaxLag     = time.Second
	avMinOverlap = 3 * time.Second
	envFloorDB   = -70.0
)

// Envelope turns analyser frames into the audio envelope for AVOffset: one
// value per frame, the RMS level in dBFS clipped below at −70 dBFS so that
// digital silence does not dominate the correlation.
func Envelope(frames []Frame) []TimedValue {
	out := make([]TimedValue, len(frames))
	for i, f := range frames {
		out[i] = TimedValue{At: f.At, Value: math.Max(envFloorDB, f.RMSdB)}
	}
	return out
}

// AVOffset estimates the delay between the mouth movement of a video and the
// audio envelope. Both series are linearly interpolated onto a common 50 Hz
// grid over the time they overlap (gaps are bridged by the interpolation), and
// the Pearson correlation of mouth(t) with envelope(t + lag) is computed for
// every lag in ±1 s, each over the grid points both series cover. The lag with
// the highest correlation is refined by a parabola through its neighbours.
//
// A positive offset means the audio lags the video (the sound of a mouth
// movement arrives offset later); negative means the audio leads. peakCorr is
// the correlation at the peak (−1..1). ok is false when the series overlap for
// less than 3 s or are constant (a lag at which one side is constant counts
// as correlation 0);
// a weak peak is still ok, and callers should weigh peakCorr (below ~0.3 the
// offset is not meaningful).
func AVOffset(mouth []TimedValue, envelope []TimedValue) (offset time.Duration, peakCorr float64, ok bool) {
	if len(mouth) < 2 || len(envelope) < 2 {
		return 0, 0, false
	}
	mouth, envelope = sortedByTime(mouth), sortedByTime(envelope)
	start := later(mouth[0].At, envelope[0].At)
	end := earlier(mouth[len(mouth)-1].At, envelope[len(envelope)-1].At)
	if end.Sub(start) < avMinOverlap {
		return 0, 0, false
	}
	n := int(end.Sub(start)/avStep) + 1
	m := resampleGrid(mouth, start, n)
	e := resampleGrid(envelope, start, n)
	maxLag := int(avMaxLag / avStep)
	minPts := int(2 * time.Second / avStep)
	corr := make([]float64, 2*maxLag+1)
	best, valid := -1, 0
	for i := range corr {
		lag := i - maxLag
		lo, hi := max(0, -lag), min(n, n-lag) // m[t], e[t+lag] for t in [lo, hi)
		if hi-lo < minPts {
			return 0, 0, false
		}
		c, good := dsp.Pearson(m[lo:hi], e[lo+lag:hi+lag])
		if !good {
			continue // one side constant at this lag: correlation 0
		}
		valid++
		corr[i] = c
		if best < 0 || c > corr[best] {
			best = i
		}
	}
	if valid == 0 {
		return 0, 0, false
	}
	peakCorr = corr[best]
	pos := float64(best - maxLag)
	if best > 0 && best < len(corr)-1 {
		d := parabolicOffset(corr[best-1], corr[best], corr[best+1])
		pos += d
		peakCorr = math.Min(1, parabolicPeak(corr[best-1], corr[best], corr[best+1]))
	}
	return time.Duration(math.Round(pos * float64(avStep))), peakCorr, true
}

func sortedByTime(v []TimedValue) []TimedValue {
	if slices.IsSortedFunc(v, cmpTimed) {
		return v
	}
	v = slices.Clone(v)
	slices.SortStableFunc(v, cmpTimed)
	return v
}

func cmpTimed(a, b TimedValue) int { return a.At.Compare(b.At) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// resampleGrid samples the piecewise-linear interpolation of v at start + i·20 ms.
func resampleGrid(v []TimedValue, start time.Time, n int) []float64 {
	out := make([]float64, n)
	j := 0
	for i := range out {
		t := start.Add(time.Duration(i) * avStep)
		for j+1 < len(v) && !v[j+1].At.After(t) {
			j++
		}
		if j+1 >= len(v) || !v[j].At.Before(t) {
			out[i] = v[j].Value
			continue
		}
		span := v[j+1].At.Sub(v[j].At)
		if span <= 0 {
			out[i] = v[j+1].Value
			continue
		}
		fr := float64(t.Sub(v[j].At)) / float64(span)
		out[i] = v[j].Value + fr*(v[j+1].Value-v[j].Value)
	}
	return out
}
