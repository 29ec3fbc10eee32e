package detect

import "math"

// Scoring helpers shared by the detectors (the statistics are in internal/dsp).

// sigmoid is the logistic function of (x-mid)/width.
func sigmoid(x, mid, width float64) float64 {
	return 1 / (1 + math.Exp(-(x-mid)/width))
}

// saturate maps n observations to a 0..1 reliability n/(n+half).
func saturate(n, half float64) float64 {
	if n <= 0 {
		return 0
	}
	return n / (n + half)
}
