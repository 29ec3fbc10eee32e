package voice

import (
	"math"
)

// pitch runs YIN (de Cheveigné & Kawahara 2002) on the last 40 ms of the
// 16 kHz signal: cumulative-mean-normalised difference, absolute threshold
// 0.2, first local minimum below it, parabolic refinement. It returns the
// fundamental frequency and whether the frame is periodic at all.
func (a *Analyzer) pitch() (hz float64, ok bool) {
	const win = 2 * pitchFrame
	if len(a.dec) < win {
		return 0, false
	}
	x := a.dec[len(a.dec)-win:]
	const w = win - pitchMaxLag - 1
	var energy float64
	for _, v := range x {
		energy += v * v
	}
	if energy < 1e-12 {
		return 0, false
	}
	// d(τ) = Σ_{j<w} (x_j − x_{j+τ})² = e(0) + e(τ) − 2·r(τ), with e(τ) the
	// energy of x[τ:τ+w] (running sums) and r the cross-correlation of
	// x[0:w] with x, computed by FFT (1024 points: no circular wrap for τ ≥ 0).
	re1, im1, re2, im2 := a.yinRe1, a.yinIm1, a.yinRe2, a.yinIm2
	for i := range re1 {
		re1[i], im1[i], re2[i], im2[i] = 0, 0, 0, 0
		if i < w {
			re1[i] = x[i]
		}
		if i < win {
			re2[i] = x[i]
		}
	}
	a.fft.Transform(re1, im1)
	a.fft.Transform(re2, im2)
	for k := range re1 { // conj(X1)·X2, conjugated again for the inverse via forward FFT
		r := re1[k]*re2[k] + im1[k]*im2[k]
		i := re1[k]*im2[k] - im1[k]*re2[k]
		re1[k], im1[k] = r, -i
	}
	a.fft.Transform(re1, im1) // re1[τ]·(1/n) = r(τ)
	inv := 1 / float64(len(re1))
	var e0 float64
	for j := range w {
		e0 += x[j] * x[j]
	}
	et := e0
	d := a.yinD
	d[0] = 1
	running := 0.0
	for tau := 1; tau <= pitchMaxLag+1 && tau < len(d); tau++ {
		et += x[tau+w-1]*x[tau+w-1] - x[tau-1]*x[tau-1]
		s := math.Max(0, e0+et-2*re1[tau]*inv)
		running += s
		if running > 0 {
			d[tau] = s * float64(tau) / running
		} else {
			d[tau] = 1
		}
	}
	tau := -1
	for t := pitchMinLag; t <= pitchMaxLag; t++ {
		if d[t] < yinThreshold {
			for t+1 <= pitchMaxLag && d[t+1] < d[t] {
				t++
			}
			tau = t
			break
		}
	}
	if tau < 0 {
		return 0, false
	}
	ft := float64(tau)
	if tau > 1 && tau < pitchMaxLag+1 {
		ft += parabolicOffset(d[tau-1], d[tau], d[tau+1])
	}
	return pitchRate / ft, true
}

// parabolicOffset returns the offset (−0.5..0.5) of the extremum of the
// parabola through (−1, a), (0, b), (1, c).
func parabolicOffset(a, b, c float64) float64 {
	den := a - 2*b + c
	if den == 0 {
		return 0
	}
	return math.Max(-0.5, math.Min(0.5, 0.5*(a-c)/den))
}

// parabolicPeak returns the extreme value of the parabola through (−1, a), (0, b), (1, c).
func parabolicPeak(a, b, c float64) float64 {
	p := parabolicOffset(a, b, c)
	return b - 0.25*(a-c)*p
}

// cycleTracker follows glottal cycles through consecutive voiced frames by
// waveform matching: from the start of the current cycle it searches the
// period T in [0.8, 1.25]×T0 (T0 from YIN) that maximises the normalised
// cross-correlation between the next T0 samples and the T0 samples one period
// later, refines T parabolically, and steps forward by T. Each accepted cycle
// yields a period, a peak-to-peak amplitude and its correlation. A chain of
// adjacent cycles ends on an unvoiced frame or on a cycle whose correlation is
// below 0.7; perturbation is only measured inside chains.
type cycleTracker struct {
	pos   float64 // absolute 16 kHz position of the next cycle start; < 0 when no chain
	chain []cycle
}

type cycle struct {
	t, a, r float64 // period (16 kHz samples), peak-to-peak amplitude, correlation
}

// reset ends the current chain, folding it into the session sums.
func (c *cycleTracker) reset(acc *accumulator) {
	acc.jit.add(c.chain)
	c.chain = c.chain[:0]
	c.pos = -1
}

// track measures the cycles of the newest frame. It returns the mean
// correlation of the cycles it accepted and how many there were.
func (c *cycleTracker) track(a *Analyzer, t0 float64) (meanR float64, n int) {
	end := a.decBase + len(a.dec)
	if c.pos < 0 || c.pos < float64(a.decBase) {
		c.reset(&a.acc)
		c.pos = math.Max(float64(end-2*pitchFrame), float64(a.decBase))
	}
	lo := int(math.Floor(0.8 * t0))
	hi := int(math.Ceil(1.25 * t0))
	l := int(math.Round(t0))
	var sumR float64
	for {
		p := int(math.Round(c.pos))
		if p+hi+1+l > end {
			break
		}
		seg := a.dec[p-a.decBase:]
		best, bestR := -1, -2.0
		for t := lo; t <= hi; t++ {
			if r := nccAt(seg, l, t); r > bestR {
				best, bestR = t, r
			}
		}
		if bestR < 0.7 {
			acc := &a.acc
			acc.jit.add(c.chain)
			c.chain = c.chain[:0]
			c.pos += t0
			continue
		}
		period, r := float64(best), bestR
		if best > lo && best < hi {
			r0, r2 := nccAt(seg, l, best-1), nccAt(seg, l, best+1)
			period += parabolicOffset(r0, bestR, r2)
			r = math.Min(1, parabolicPeak(r0, bestR, r2))
		}
		width := int(math.Round(period))
		var ss float64
		for _, v := range seg[:width] {
			ss += v * v
		}
		c.chain = append(c.chain, cycle{t: period, a: math.Sqrt(ss / float64(width)), r: r})
		sumR += r
		n++
		c.pos += period
	}
	if n == 0 {
		return 0, 0
	}
	return sumR / float64(n), n
}

// nccAt correlates seg[0:l] with seg[t:t+l].
func nccAt(seg []float64, l, t int) float64 {
	var xy, xx, yy float64
	for j := range l {
		u, v := seg[j], seg[j+t]
		xy += u * v
		xx += u * u
		yy += v * v
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}
