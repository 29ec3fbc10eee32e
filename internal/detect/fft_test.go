package detect

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// fftOnTheFly is the transform as it was before the twiddle table: the
// factors formed by a running product inside every block.
func fftOnTheFly(x []complex128) {
	n := len(x)
	bitReverse(x)
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := 0; k < size/2; k++ {
				a, b := x[start+k], w*x[start+k+size/2]
				x[start+k], x[start+k+size/2] = a+b, a-b
				w *= step
			}
		}
	}
}

// The table-driven FFT gives the same bits as the running-product one, and
// the transform of a pure tone is a single peak.
func TestFFTMatchesRunningProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 8, 128} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(rng.NormFloat64()*40, 0)
		}
		want := append([]complex128(nil), x...)
		fftOnTheFly(want)
		fft(x, twiddles(n))
		for i := range x {
			if x[i] != want[i] {
				t.Fatalf("n %d bin %d: %v, want %v", n, i, x[i], want[i])
			}
		}
	}
	const n = 64
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(math.Cos(2*math.Pi*5*float64(i)/n), 0)
	}
	fft(x, twiddles(n))
	for i := range x {
		want := 0.0
		if i == 5 || i == n-5 {
			want = n / 2
		}
		if math.Abs(cmplx.Abs(x[i])-want) > 1e-9 {
			t.Errorf("tone: |X[%d]| = %.3g, want %.3g", i, cmplx.Abs(x[i]), want)
		}
	}
}
