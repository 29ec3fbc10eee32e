package challenge

import (
	"math"
	"slices"
	"time"
)

// sample is one value of a time series.
type sample struct {
	t time.Time
	v float64
}

// percentile returns the p-th percentile (0..100) of vals by linear interpolation; 0 for none.
func percentile(vals []float64, p float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// values returns the values of s.
func values(s []sample) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = x.v
	}
	return out
}

// between returns the samples with from ≤ t < to.
func between(s []sample, from, to time.Time) []sample {
	var out []sample
	for _, x := range s {
		if !x.t.Before(from) && x.t.Before(to) {
			out = append(out, x)
		}
	}
	return out
}

// median3 smooths s with a 3-point running median (rejects single-frame spikes, keeps steps).
func median3(s []sample) []sample {
	out := slices.Clone(s)
	for i := 1; i+1 < len(s); i++ {
		a, b, c := s[i-1].v, s[i].v, s[i+1].v
		out[i].v = max(min(a, b), min(max(a, b), c))
	}
	return out
}

// pearson returns the correlation of x and y; ok is false when either is constant or too short.
func pearson(x, y []float64) (r float64, ok bool) {
	n := len(x)
	if n < 3 || len(y) != n {
		return 0, false
	}
	var mx, my float64
	for i := range n {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range n {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx <= 1e-12 || syy <= 1e-12 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}

// detrend removes the least-squares line through (t, y) from y.
func detrend(t, y []float64) []float64 {
	n := float64(len(y))
	out := slices.Clone(y)
	if len(y) < 3 {
		return out
	}
	var st, sy, stt, sty float64
	for i := range y {
		st += t[i]
		sy += y[i]
		stt += t[i] * t[i]
		sty += t[i] * y[i]
	}
	den := n*stt - st*st
	if den == 0 {
		return out
	}
	b := (n*sty - st*sy) / den
	a := (sy - b*st) / n
	for i := range out {
		out[i] -= a + b*t[i]
	}
	return out
}

// appendDiffs appends the sample-to-sample changes of x to dst.
func appendDiffs(dst, x []float64) []float64 {
	for i := 1; i < len(x); i++ {
		dst = append(dst, x[i]-x[i-1])
	}
	return dst
}

// diffs returns the changes of x over k samples.
func diffs(x []float64, k int) []float64 {
	if len(x) <= k {
		return nil
	}
	out := make([]float64, len(x)-k)
	for i := range out {
		out[i] = x[i+k] - x[i]
	}
	return out
}

// seconds returns d in seconds as a float.
func seconds(d time.Duration) float64 { return d.Seconds() }

// ms returns d in milliseconds as a float, for metrics.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
