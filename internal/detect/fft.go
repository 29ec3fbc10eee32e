package detect

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft computes the discrete Fourier transform of x in place (radix 2;
// len(x) must be a power of two).
func fft(x []complex128) {
	n := len(x)
	if n <= 1 {
		return
	}
	shift := 64 - uint(bits.TrailingZeros(uint(n)))
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
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

// fft2 transforms an n x n row-major array in place (rows, then columns).
func fft2(a []complex128, n int, col []complex128) {
	for r := 0; r < n; r++ {
		fft(a[r*n : (r+1)*n])
	}
	for c := 0; c < n; c++ {
		for r := 0; r < n; r++ {
			col[r] = a[r*n+c]
		}
		fft(col[:n])
		for r := 0; r < n; r++ {
			a[r*n+c] = col[r]
		}
	}
}
