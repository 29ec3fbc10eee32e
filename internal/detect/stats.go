package detect

import (
	"math"
	"slices"
)

// Small numeric helpers shared by the detectors. All of them tolerate empty
// input and return 0 (or NaN where stated) rather than panicking.

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Max(0, math.Min(1, x))
}

// sigmoid is the logistic function of (x-mid)/width.
func sigmoid(x, mid, width float64) float64 {
	return 1 / (1 + math.Exp(-(x-mid)/width))
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func stddev(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := mean(x)
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// quantile returns the q-quantile (0..1) of x by linear interpolation,
// without modifying x. It is 0 for an empty slice.
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return sortedQuantile(s, q)
}

// sortedQuantile is quantile on an already sorted slice.
func sortedQuantile(s []float64, q float64) float64 {
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

func median(x []float64) float64 { return quantile(x, 0.5) }

// rms is the root mean square of x.
func rms(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// saturate maps n observations to a 0..1 reliability n/(n+half).
func saturate(n, half float64) float64 {
	if n <= 0 {
		return 0
	}
	return n / (n + half)
}
