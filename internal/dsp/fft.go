package dsp

import "math"

// FFT is a precomputed in-place radix-2 complex FFT of a fixed power-of-two
// size. A plan is read-only after construction and may be shared between
// goroutines; the buffers are the caller's.
type FFT struct {
	n        int
	rev      []int
	cos, sin []float64 // twiddles for the largest stage, n/2 entries
}

// NewFFT returns the plan of size n. n must be a power of two of at least 2
// (the sizes are constants of the callers); NewFFT panics otherwise.
func NewFFT(n int) *FFT {
	if n < 2 || n&(n-1) != 0 {
		panic("dsp: FFT size must be a power of two")
	}
	p := &FFT{n: n, rev: make([]int, n), cos: make([]float64, n/2), sin: make([]float64, n/2)}
	bits := 0
	for 1<<bits < n {
		bits++
	}
	for i := range n {
		r := 0
		for b := range bits {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		p.rev[i] = r
	}
	for i := range n / 2 {
		a := -2 * math.Pi * float64(i) / float64(n)
		p.cos[i], p.sin[i] = math.Cos(a), math.Sin(a)
	}
	return p
}

// Len is the plan's size.
func (p *FFT) Len() int { return p.n }

// Transform computes the forward DFT X[k] = sum x[j] exp(-2πi jk/n) in place
// on the first n values of re and im.
func (p *FFT) Transform(re, im []float64) {
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
			// k = 0: the twiddle is (1, -0); multiplying by it changes
			// nothing but, at most, the sign of a zero.
			a, b := start, start+half
			tr, ti := re[b], im[b]
			re[b], im[b] = re[a]-tr, im[a]-ti
			re[a], im[a] = re[a]+tr, im[a]+ti
			for k := 1; k < half; k++ {
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

// Transform2D computes the 2-D DFT of an n x n row-major array in place
// (rows, then columns). scratch must hold at least 2n values.
func (p *FFT) Transform2D(re, im, scratch []float64) {
	n := p.n
	for r := 0; r < n; r++ {
		p.Transform(re[r*n:(r+1)*n], im[r*n:(r+1)*n])
	}
	cr, ci := scratch[:n], scratch[n:2*n]
	for c := 0; c < n; c++ {
		for r := 0; r < n; r++ {
			cr[r], ci[r] = re[r*n+c], im[r*n+c]
		}
		p.Transform(cr, ci)
		for r := 0; r < n; r++ {
			re[r*n+c], im[r*n+c] = cr[r], ci[r]
		}
	}
}
