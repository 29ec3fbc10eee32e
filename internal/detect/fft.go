package detect

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// twiddles returns the twiddle factors of a radix-2 FFT of length n (a power
// of two): for each stage size s = 2, 4, ..., n the s/2 factors
// exp(-2πik/s), k = 0..s/2-1, from index s/2-1. Each factor is computed by
// the same running product fft used to form on the fly, so the transform's
// result is unchanged to the bit; the table only saves recomputing it for
// every block of every row and column.
func twiddles(n int) []complex128 {
	if n < 2 {
		return nil
	}
	tw := make([]complex128, n-1)
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		w := complex(1, 0)
		t := tw[size/2-1 : size-1]
		for k := range t {
			t[k] = w
			w *= step
		}
	}
	return tw
}

// fft computes the discrete Fourier transform of x in place (radix 2;
// len(x) must be a power of two) with the factors of twiddles(len(x)).
func fft(x, tw []complex128) {
	n := len(x)
	if n <= 1 {
		return
	}
	bitReverse(x)
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		t := tw[half-1 : size-1]
		for start := 0; start < n; start += size {
			lo, hi := x[start:start+half], x[start+half:start+size]
			for k, w := range t {
				a, b := lo[k], w*hi[k]
				lo[k], hi[k] = a+b, a-b
			}
		}
	}
}

// bitReverse puts x (length a power of two) in bit-reversed index order,
// the input order of the radix-2 butterflies.
func bitReverse(x []complex128) {
	n := len(x)
	shift := 64 - uint(bits.TrailingZeros(uint(n)))
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
}

// fft2 transforms an n x n row-major array in place (rows, then columns);
// tw is twiddles(n) and col a scratch slice of length n.
func fft2(a []complex128, n int, tw, col []complex128) {
	for r := 0; r < n; r++ {
		fft(a[r*n:(r+1)*n], tw)
	}
	for c := 0; c < n; c++ {
		for r := 0; r < n; r++ {
			col[r] = a[r*n+c]
		}
		fft(col[:n], tw)
		for r := 0; r < n; r++ {
			a[r*n+c] = col[r]
		}
	}
}
