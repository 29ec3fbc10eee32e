package voice

import "math"

// fftPlan is a precomputed in-place radix-2 complex FFT of a fixed power-of-two size.
// A plan is read-only after construction and may be shared; the buffers are the caller's.
type fftPlan struct {
	n        int
	rev      []int
	cos, sin []float64 // twiddles for the largest stage, n/2 entries
}

func newFFT(n int) *fftPlan {
	if n < 2 || n&(n-1) != 0 {
		panic("voice: FFT size must be a power of two")
	}
	p := &fftPlan{n: n, rev: make([]int, n), cos: make([]float64, n/2), sin: make([]float64, n/2)}
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

// transform computes the forward DFT X[k] = sum x[j] exp(-2πi jk/n) in place.
func (p *fftPlan) transform(re, im []float64) {
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
