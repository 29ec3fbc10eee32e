// Package dsp holds the numeric helpers every measuring package shares:
// descriptive statistics (mean, standard deviation, quantiles, RMS), Pearson
// correlation, least-squares detrending, a precomputed radix-2 FFT and a small
// dense linear solver. Everything is plain Go on float64 slices, allocation
// free where the caller provides buffers, and deterministic.
//
// The helpers tolerate empty input and return 0 (or false) rather than
// panicking, so callers can apply them to windows that may be empty.
package dsp

import (
	"math"
	"slices"
)

// Clamp01 limits x to [0, 1]; NaN becomes 0.
func Clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Max(0, math.Min(1, x))
}

// Mean is the arithmetic mean of x, 0 for none.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// StdDev is the sample standard deviation of x (n−1 in the denominator), 0
// for fewer than two values.
func StdDev(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := Mean(x)
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// RMS is the root mean square of x, 0 for none.
func RMS(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// Quantile returns the q-quantile (0..1) of x by linear interpolation between
// the order statistics, without modifying x. It is 0 for an empty slice.
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return SortedQuantile(s, q)
}

// SortedQuantile is Quantile on an already sorted slice.
func SortedQuantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	p := q * float64(len(s)-1)
	i := int(math.Floor(p))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	if i < 0 {
		return s[0]
	}
	f := p - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// Median is Quantile(x, 0.5): the middle value, or the mean of the two middle
// values.
func Median(x []float64) float64 { return Quantile(x, 0.5) }

// Pearson returns the correlation coefficient of x and y (equal lengths); ok
// is false when they are shorter than three values, of different lengths, or
// either is constant.
func Pearson(x, y []float64) (r float64, ok bool) {
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

// Detrend removes the least-squares line through (t, y) from y, in place.
// Fewer than three points, or all at the same t, are left unchanged.
func Detrend(t, y []float64) {
	if len(y) < 3 {
		return
	}
	n := float64(len(y))
	var st, sy, stt, sty float64
	for i := range y {
		st += t[i]
		sy += y[i]
		stt += t[i] * t[i]
		sty += t[i] * y[i]
	}
	den := n*stt - st*st
	if den == 0 {
		return
	}
	b := (n*sty - st*sy) / den
	a := (sy - b*st) / n
	for i := range y {
		y[i] -= a + b*t[i]
	}
}
