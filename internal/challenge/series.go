package challenge

import (
	"slices"
	"time"
)

// sample is one value of a time series.
type sample struct {
	t time.Time
	v float64
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

// appendDiffsK appends the changes of x over k samples to dst.
func appendDiffsK(dst, x []float64, k int) []float64 {
	for i := k; i < len(x); i++ {
		dst = append(dst, x[i]-x[i-k])
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
