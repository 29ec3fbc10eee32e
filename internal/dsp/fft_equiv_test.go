package dsp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// transformRef is Transform before the k = 0 butterflies skipped their
// twiddle (1, -0): the reference TestFFTSkipsUnitTwiddle compares against.
func (p *FFT) transformRef(re, im []float64) {
	n := p.n
	re, im = re[:n], im[:n]
	for i, r := range p.rev {
		if i < r {
			re[i], re[r] = re[r], re[i]
			im[i], im[r] = im[r], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		step := n / size
		for start := 0; start < n; start += size {
			for k := range half {
				wr, wi := p.cos[k*step], p.sin[k*step]
				a, b := start+k, start+k+half
				tr := wr*re[b] - wi*im[b]
				ti := wr*im[b] + wi*re[b]
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
}

// TestFFTSkipsUnitTwiddle: Transform gives the same values (==, so a zero
// may differ in sign only) as the butterflies that multiplied by the unit
// twiddle, on complex and on real, zero-padded, sparse and constant inputs of
// the sizes the callers use.
func TestFFTSkipsUnitTwiddle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{2, 4, 64, 256, 1024} {
		p := NewFFT(n)
		for trial := range 40 {
			re, im := make([]float64, n), make([]float64, n)
			for i := range re {
				switch trial % 4 {
				case 0: // complex
					re[i], im[i] = rng.NormFloat64(), rng.NormFloat64()
				case 1: // real, zero-padded to n (the voice spectra)
					if i < n*5/8 {
						re[i] = rng.NormFloat64() * 1e-3
					}
				case 2: // sparse, with negative zeros
					if rng.IntN(8) == 0 {
						re[i] = rng.NormFloat64()
					} else if rng.IntN(2) == 0 {
						re[i] = math.Copysign(0, -1)
					}
				case 3: // constant
					re[i] = 0.25
				}
			}
			r1, i1 := append([]float64(nil), re...), append([]float64(nil), im...)
			p.Transform(re, im)
			p.transformRef(r1, i1)
			for k := range re {
				if re[k] != r1[k] || im[k] != i1[k] {
					t.Fatalf("n %d trial %d bin %d: %v%+vi, reference %v%+vi", n, trial, k, re[k], im[k], r1[k], i1[k])
				}
			}
		}
	}
}

// BenchmarkFFT1024 is one 1024-point transform of a real, zero-padded frame
// (the voice spectrum and pitch), now and with the reference butterflies.
func BenchmarkFFT1024(b *testing.B) {
	p := NewFFT(1024)
	x := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 960 {
		x[i] = rng.NormFloat64()
	}
	re, im := make([]float64, 1024), make([]float64, 1024)
	for _, ref := range []bool{true, false} {
		name := "now"
		if ref {
			name = "reference"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				copy(re, x)
				clear(im)
				if ref {
					p.transformRef(re, im)
				} else {
					p.Transform(re, im)
				}
			}
		})
	}
}
