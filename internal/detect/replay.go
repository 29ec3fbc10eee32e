package detect

import (
	"fmt"
	"image"
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// replayDetector looks for a video played on a screen and filmed again:
//   - a screen border: straight edges around the face, on up to four sides,
//     with the bright picture inside and a darker bezel or room outside.
//     Letterbox padding (flat black bars, which many genuine streams have) is
//     not a border;
//   - moiré: the pixel grid of the screen beating with the camera's makes a
//     periodic pattern, a bump or sharp peaks in the spatial spectrum of the
//     face region that a camera's natural 1/f spectrum does not have;
//   - gamut and gamma: a re-filmed screen compresses the luma range.
//
// The checks run every Config.ReplayEvery analysed frames on a ~160 px wide
// thumbnail (border) and a 128x128 native-resolution patch (spectrum).
// Value: the mean number of border sides found per check.
type replayDetector struct {
	every   int
	thumb   []float64
	sums    []int     // makeThumb's column sums of one thumbnail row
	gy, gx  []float64 // thumbnail steps: (T[y+1]+T[y+2]-T[y-1]-T[y-2])/2 and the same along x
	tw, th  int
	hannW   []float64
	ringOf  []int // ring index of each half-plane spectrum bin (-1: not used)
	ringN   []int
	fft     *dsp.FFT
	re, im  []float64 // the spectrum's n x n patch, then its transform
	scratch []float64
	cur     []replayCheck
	allBord []float64
	allMoir []float64
	allRing []float64
	allRng  []float64
}

type replayCheck struct {
	sides   int     // border sides found
	border  float64 // border evidence 0..1 from which sides were found
	tilt    float64 // mean |slope| of the sides found
	peak    float64 // sharpest spectral peak over its ring (log10 power)
	bump    float64 // radial spectrum bump over the 1/f fit (log10 power)
	lumaRng float64 // p98 - p2 of luma, padding excluded
}

func newReplayDetector(every int) *replayDetector {
	return &replayDetector{every: max(1, every)}
}

func (d *replayDetector) kind() string { return KindReplay }

func (d *replayDetector) add(fc *frameCtx) {
	if fc.idx%d.every != 0 {
		return
	}
	d.makeThumb(fc.f)
	var c replayCheck
	c.lumaRng = d.lumaRange()
	face := fc.face
	if face.Empty() {
		return // the border search is anchored on the face
	}
	k := float64(fc.f.Width) / float64(d.tw)
	tf := image.Rect(int(float64(face.Min.X)/k), int(float64(face.Min.Y)/k), int(float64(face.Max.X)/k), int(float64(face.Max.Y)/k))
	d.makeSteps()
	var mask int
	mask, c.tilt = d.border(tf)
	c.sides, c.border = borderEvidence(mask)
	c.peak, c.bump = d.spectrum(fc.f, face)
	d.cur = append(d.cur, c)
	if len(d.allBord) < maxSessionSamples {
		d.allBord = append(d.allBord, float64(c.sides))
		d.allMoir = append(d.allMoir, c.peak)
		d.allRing = append(d.allRing, c.bump)
		d.allRng = append(d.allRng, c.lumaRng)
	}
}

// makeThumb box-averages the Y plane by an integer factor to ~160 px width.
func (d *replayDetector) makeThumb(f *models.Frame) {
	k := max(1, f.Width/160)
	d.tw, d.th = f.Width/k, f.Height/k
	if cap(d.thumb) < d.tw*d.th {
		d.thumb = make([]float64, d.tw*d.th)
	}
	d.thumb = d.thumb[:d.tw*d.th]
	inv := 1 / float64(k*k)
	if cap(d.sums) < d.tw {
		d.sums = make([]int, d.tw)
	}
	sums := d.sums[:d.tw]
	for ty := 0; ty < d.th; ty++ {
		clear(sums)
		for y := ty * k; y < ty*k+k; y++ {
			row := f.Y[y*f.Width : y*f.Width+d.tw*k]
			if k == 4 { // 640 px wide: the common case, unrolled
				for tx := range sums {
					q := row[4*tx : 4*tx+4]
					sums[tx] += int(q[0]) + int(q[1]) + int(q[2]) + int(q[3])
				}
				continue
			}
			for tx := range sums {
				s := 0
				for _, v := range row[tx*k : tx*k+k] {
					s += int(v)
				}
				sums[tx] += s
			}
		}
		out := d.thumb[ty*d.tw : ty*d.tw+d.tw]
		for tx, s := range sums {
			out[tx] = float64(s) * inv
		}
	}
}

func (d *replayDetector) at(x, y int) float64 { return d.thumb[y*d.tw+x] }

// makeSteps fills the two-pixel step images the border search reads.
func (d *replayDetector) makeSteps() {
	n := d.tw * d.th
	if cap(d.gy) < n {
		d.gy, d.gx = make([]float64, n), make([]float64, n)
	}
	d.gy, d.gx = d.gy[:n], d.gx[:n]
	clear(d.gy)
	clear(d.gx)
	w := d.tw
	for y := 2; y < d.th-2; y++ {
		for x := 2; x < w-2; x++ {
			k := y*w + x
			d.gy[k] = (d.thumb[k+w] + d.thumb[k+2*w] - d.thumb[k-w] - d.thumb[k-2*w]) / 2
			d.gx[k] = (d.thumb[k+1] + d.thumb[k+2] - d.thumb[k-1] - d.thumb[k-2]) / 2
		}
	}
}

// lumaRange is p98-p2 of the thumbnail's luma without near-black pixels
// (padding and letterbox bars).
func (d *replayDetector) lumaRange() float64 {
	var hist [256]int
	n := 0
	for _, v := range d.thumb {
		if v > 20 {
			hist[int(v)]++
			n++
		}
	}
	if n < 100 {
		return 0
	}
	q := func(p float64) float64 {
		target := int(p * float64(n))
		c := 0
		for i, h := range hist {
			c += h
			if c > target {
				return float64(i)
			}
		}
		return 255
	}
	return q(0.98) - q(0.02)
}

// Border search parameters (thumbnail pixels and code values).
const (
	borderEdge     = 14.0 // minimum step across the edge (sum of 2 px each side / 2)
	borderCoverage = 0.6  // fraction of the span the edge must cover (straight screen edges cover it all)
	borderMaxSlope = 0.12 // about 7 degrees of tilt
)

// Border sides, as bits of border's mask.
const (
	sideTop = 1 << iota
	sideBottom
	sideLeft
	sideRight
)

// borderEvidence turns the sides found into evidence: a screen shows as a
// frame around the face, so three or four sides count fully, two sides
// meeting at a corner partly, and two opposite sides (door frames, shelves,
// a rocket and a flag pole) or a single edge hardly.
func borderEvidence(mask int) (sides int, ev float64) {
	for m := mask; m != 0; m &= m - 1 {
		sides++
	}
	switch sides {
	case 4:
		return sides, 1
	case 3:
		return sides, 0.85
	case 2:
		if mask == sideTop|sideBottom || mask == sideLeft|sideRight {
			return sides, 0.2
		}
		return sides, 0.45
	case 1:
		return sides, 0.05
	}
	return 0, 0
}

// border searches the four sides of the thumbnail face box tf for a straight
// edge between the face and the frame edge with the brighter side towards the
// face, and returns the sides that have one (a mask of side bits) and their
// mean |slope|.
func (d *replayDetector) border(tf image.Rectangle) (int, float64) {
	cx, cy := float64(tf.Min.X+tf.Max.X)/2, float64(tf.Min.Y+tf.Max.Y)/2
	fw, fh := float64(tf.Dx()), float64(tf.Dy())
	mask, sides, tilt := 0, 0, 0.0
	// Horizontal sides: sample along x, the edge at y(x) = y0 + s(x-cx).
	x0, x1 := max(2, int(cx-0.9*fw)), min(d.tw-3, int(cx+0.9*fw))
	if x1-x0 >= 16 {
		if ok, s := d.bestLine(x0, x1, 3, tf.Min.Y-2, cx, true, +1); ok {
			mask, sides, tilt = mask|sideTop, sides+1, tilt+s
		}
		if ok, s := d.bestLine(x0, x1, tf.Max.Y+2, d.th-4, cx, true, -1); ok {
			mask, sides, tilt = mask|sideBottom, sides+1, tilt+s
		}
	}
	y0, y1 := max(2, int(cy-0.9*fh)), min(d.th-3, int(cy+0.9*fh))
	if y1-y0 >= 16 {
		if ok, s := d.bestLine(y0, y1, 3, tf.Min.X-2, cy, false, +1); ok {
			mask, sides, tilt = mask|sideLeft, sides+1, tilt+s
		}
		if ok, s := d.bestLine(y0, y1, tf.Max.X+2, d.tw-4, cy, false, -1); ok {
			mask, sides, tilt = mask|sideRight, sides+1, tilt+s
		}
	}
	if sides > 0 {
		tilt /= float64(sides)
	}
	return mask, tilt
}

// bestLine scans edge positions p0..p1 (rows when horiz, else columns) and
// slopes for a line crossing the span a0..a1 along which the picture steps
// up towards the face (inward = +1 when the face is at higher coordinates).
// It reports whether a line covers enough of the span and is not letterbox
// padding, and the line's |slope|.
func (d *replayDetector) bestLine(a0, a1, p0, p1 int, centre float64, horiz bool, inward int) (bool, float64) {
	get := func(a, p int) float64 {
		if horiz {
			return d.at(a, p)
		}
		return d.at(p, a)
	}
	// step(a, q) is the two-pixel step across the line at q, positive when
	// the face's side is brighter.
	g, stride := d.gy, d.tw
	if !horiz {
		g, stride = d.gx, 1
	}
	other := 1
	if !horiz {
		other = d.tw
	}
	limit := d.th
	if !horiz {
		limit = d.tw
	}
	sign := float64(inward)
	bestCov, bestSlope, bestP := 0.0, 0.0, 0
	span := float64(a1 - a0 + 1)
	for p := p0; p <= p1; p++ {
		for si := -4; si <= 4; si++ {
			slope := float64(si) * borderMaxSlope / 4
			hit := 0
			for a := a0; a <= a1; a++ {
				q := int(float64(p) + slope*(float64(a)-centre) + 0.5)
				if q < 2 || q > limit-3 {
					continue
				}
				if sign*g[q*stride+a*other] >= borderEdge {
					hit++
				}
			}
			if cov := float64(hit) / span; cov > bestCov {
				bestCov, bestSlope, bestP = cov, slope, p
			}
		}
	}
	if bestCov < borderCoverage {
		return false, 0
	}
	// Letterbox padding: flat black outside the edge (bars are added by
	// software after capture, so they carry no sensor noise).
	var outside []float64
	for a := a0; a <= a1; a++ {
		for k := 3; k <= 4; k++ {
			q := int(math.Round(float64(bestP)+bestSlope*(float64(a)-centre))) - k*inward
			if q >= 0 && q < limit {
				outside = append(outside, get(a, q))
			}
		}
	}
	if dsp.Mean(outside) < 24 && dsp.StdDev(outside) < 2 {
		return false, 0
	}
	return true, math.Abs(bestSlope)
}

const specN = 128

// spectrum measures periodic structure in a specN x specN patch of the Y
// plane centred on the face: the strongest off-axis peak over the median of
// its ring, and the largest bump of the radial profile over a power-law fit,
// both in log10 power. The axes are left out: block coding and straight
// edges put energy there.
func (d *replayDetector) spectrum(f *models.Frame, face image.Rectangle) (peak, bump float64) {
	n := specN
	if f.Width < n || f.Height < n {
		return 0, 0
	}
	cx, cy := (face.Min.X+face.Max.X)/2, (face.Min.Y+face.Max.Y)/2
	x0 := min(max(0, cx-n/2), f.Width-n)
	y0 := min(max(0, cy-n/2), f.Height-n)
	if d.fft == nil {
		d.fft = dsp.NewFFT(n)
		d.re, d.im, d.scratch = make([]float64, n*n), make([]float64, n*n), make([]float64, 2*n)
		d.hannW = make([]float64, n)
		for i := range d.hannW {
			d.hannW[i] = hann(i, n)
		}
		// Half plane v in [0, n/2], u in (-n/2, n/2), without the axes
		// (block coding and straight edges put energy there).
		half := n / 2
		d.ringOf = make([]int, (half+1)*n)
		d.ringN = make([]int, half)
		for v := 0; v <= half; v++ {
			for u := -half + 1; u < half; u++ {
				k := v*n + (u+n)%n
				d.ringOf[k] = -1
				if u == 0 || v == 0 || u == 1 || u == -1 || v == 1 {
					continue
				}
				r := int(math.Round(math.Hypot(float64(u), float64(v))))
				if r < 3 || r >= half {
					continue
				}
				d.ringOf[k] = r
				d.ringN[r]++
			}
		}
	}
	var m float64
	for y := 0; y < n; y++ {
		row := f.Y[(y0+y)*f.Width+x0:]
		for x := 0; x < n; x++ {
			m += float64(row[x])
		}
	}
	m /= float64(n * n)
	for y := 0; y < n; y++ {
		wy := d.hannW[y]
		row := f.Y[(y0+y)*f.Width+x0:]
		for x := 0; x < n; x++ {
			d.re[y*n+x], d.im[y*n+x] = (float64(row[x])-m)*wy*d.hannW[x], 0
		}
	}
	d.fft.Transform2D(d.re, d.im, d.scratch)
	// Log power per bin and mean per ring.
	half := n / 2
	prof := make([]float64, half)
	for k, r := range d.ringOf {
		if r < 0 {
			continue
		}
		p := math.Log10(d.re[k]*d.re[k] + d.im[k]*d.im[k] + 1e-9)
		d.re[k] = p // keep the log power for the peak search
		prof[r] += p
	}
	for r := 3; r < half; r++ {
		if d.ringN[r] > 0 {
			prof[r] /= float64(d.ringN[r])
		}
	}
	for k, r := range d.ringOf {
		if r >= 6 {
			if v := d.re[k] - prof[r]; v > peak {
				peak = v
			}
		}
	}
	// Power-law fit of the radial profile, log-log, r in [3, half).
	var sx, sy, sxx, sxy, cnt float64
	for r := 3; r < half; r++ {
		x := math.Log10(float64(r))
		sx, sy, sxx, sxy, cnt = sx+x, sy+prof[r], sxx+x*x, sxy+x*prof[r], cnt+1
	}
	slope := (cnt*sxy - sx*sy) / (cnt*sxx - sx*sx)
	icpt := (sy - slope*sx) / cnt
	for r := 5; r < half-4; r++ {
		sm := (prof[r-1] + prof[r] + prof[r+1]) / 3
		if res := sm - (icpt + slope*math.Log10(float64(r))); res > bump {
			bump = res
		}
	}
	return peak, bump
}

func hann(i, n int) float64 { return 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1)) }

// Replay thresholds.
const (
	replayPeakMid  = 2.6 // log10: a spectral peak 400x above its ring
	replayPeakW    = 0.2
	replayBumpMid  = 0.9 // genuine devset clips reach 0.6
	replayBumpW    = 0.1
	replayRangeMid = 110.0 // p98-p2 luma range below this looks compressed
	replayRangeW   = 15.0
)

func (d *replayDetector) score() (windowScore, bool) {
	if len(d.cur) < 2 {
		return windowScore{}, false
	}
	var border, moire, rng, sides float64
	for _, c := range d.cur {
		border += c.border
		sides += float64(c.sides)
		moire += math.Max(sigmoid(c.peak, replayPeakMid, replayPeakW), sigmoid(c.bump, replayBumpMid, replayBumpW))
		rng += c.lumaRng
	}
	n := float64(len(d.cur))
	border, moire, rng, sides = border/n, moire/n, rng/n, sides/n
	gamut := sigmoid(-rng, -replayRangeMid, replayRangeW)
	// Noisy-OR of the cues; the luma range alone is weak (dim rooms, cheap webcams).
	s := 1 - (1-0.9*border)*(1-0.6*moire)*(1-0.25*gamut)
	return windowScore{Score: s, Confidence: 0.85 * saturate(n, 2), Value: sides}, true
}

func (d *replayDetector) reset() { d.cur = d.cur[:0] }

func (d *replayDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.85)
	sides := dsp.Mean(d.allBord)
	sg := models.Signal{Score: score, Confidence: conf, Value: sides, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "replay check not possible (no face to anchor the screen search)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("looks like a screen being filmed: %.1f border sides around the face on average, moiré peak %.1f (%d of %d windows)",
			sides, dsp.Median(d.allMoir), flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("no screen border or moiré found (%.1f border sides on average)", sides)
	}
	return sg
}

func (d *replayDetector) features() map[string]float64 {
	return map[string]float64{"sides": dsp.Mean(d.allBord), "sides_p75": dsp.Quantile(d.allBord, 0.75), "peak": dsp.Median(d.allMoir), "peak_p90": dsp.Quantile(d.allMoir, 0.9),
		"bump": dsp.Median(d.allRing), "bump_p90": dsp.Quantile(d.allRing, 0.9), "luma_range": dsp.Median(d.allRng), "checks": float64(len(d.allBord))}
}
