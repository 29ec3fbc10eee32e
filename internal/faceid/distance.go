package faceid

import (
	"fmt"
	"math"
)

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

// DescriptorFrom converts a stored descriptor (a real[] column) back; it
// fails when the length is not Dims or a value is not finite.
func DescriptorFrom(v []float32) (Descriptor, error) {
	var d Descriptor
	if len(v) != Dims {
		return d, fmt.Errorf("faceid: descriptor has %d values, want %d", len(v), Dims)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return d, fmt.Errorf("faceid: descriptor value %d is not finite", i)
		}
		d[i] = x
	}
	return d, nil
}

// Slice returns the descriptor as a slice (for storage).
func (d Descriptor) Slice() []float32 { return append([]float32(nil), d[:]...) }
