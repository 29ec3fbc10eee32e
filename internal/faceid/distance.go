package faceid

import "math"

// Distance is the Euclidean distance of two descriptors (dlib's measure:
// the same person typically below 0.6).
func Distance(a, b Descriptor) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}
