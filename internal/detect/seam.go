package detect

import (
	"fmt"
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// seamDetector looks for the boundary where a swapped face is blended into
// the original picture. Face-swap tools paste the generated face inside a
// mask derived from the landmarks (the face hull, usually eroded so that the
// target's jaw line and hairline stay) and blend it in (Poisson cloning,
// feathering). Across that boundary the colour and the fine texture change
// in a way real skin does not: the rendered face is softer than the skin the
// camera recorded around it.
//
// Per frame with landmarks, the hull (jaw 0..16 and an arc 0.35 IOD above
// the brows) is sampled at seamSamples points, leaving out the chin. At three
// insets (0.12, 0.17 and 0.22 IOD inside the hull, where both sides of the
// curve are skin on a real face) the detector takes, along the outward
// normal at each point:
//   - step dominance: the step across the curve against the slopes on either
//     side, as a scale-free ratio in luma plus one in chroma (a seam is a
//     step the neighbouring slope does not explain);
//   - texture step: (outside − inside)/(outside + inside + 2) of the mean
//     absolute Laplacian just inside and just outside (a softer inside is
//     positive).
//
// Each inset's medians over the hull are averaged over the window; the seam
// measure is the strongest inset's sum. Real skin is smooth and evenly
// textured across such curves, so its measure stays at or below zero.
// Known blind spot: swaps whose blend boundary lies on the face contour
// itself (DeepFaceLive's full-face masks) — there a hand-made measure
// cannot tell a blend from the natural face/hair edge.
// Value: the session's seam measure (median over windows).
type seamDetector struct {
	sum    [seamLevels]float64 // window sums per inset level
	tex    [seamLevels]float64
	n      int
	all    []float64
	allTex []float64
	pts    []seamPoint
	exc    []float64
	texs   []float64
}

type seamPoint struct{ x, y, nx, ny float64 }

const (
	seamSamples = 40
	seamLevels  = 3
)

// seamInsets are the inward offsets of the sampled curves, in inter-ocular
// distances: far enough inside the hull that both sides of each curve are
// skin on a real face. Nearer the hull the outer side is hair, ears or
// background, whose edges a hand-made measure cannot tell from a blend (a
// mirrored genuine face scored as high as a swap there).
var seamInsets = [seamLevels]float64{0.12, 0.17, 0.22}

func newSeamDetector() *seamDetector { return &seamDetector{} }

func (d *seamDetector) kind() string { return KindSeam }

// hull builds the face boundary polygon: jaw 0..16 then a forehead arc
// 0.35 IOD above brows 26..17. The boolean marks chin points (jaw 5..11).
func (d *seamDetector) hull(fc *frameCtx) ([26][2]float64, [26]bool) {
	var poly [26][2]float64
	var chin [26]bool
	p := fc.lm
	for i := 0; i <= 16; i++ {
		poly[i] = [2]float64{float64(p[i][0]), float64(p[i][1])}
		chin[i] = i >= 5 && i <= 11
	}
	ux, uy := math.Sin(fc.eyeAng), -math.Cos(fc.eyeAng) // "up" in the image
	for j := 0; j < 9; j++ {
		// Brows 26..18 (point 17 would double back onto jaw 0's corner).
		b := p[26-j]
		poly[17+j] = [2]float64{float64(b[0]) + 0.35*fc.iod*ux, float64(b[1]) + 0.35*fc.iod*uy}
	}
	return poly, chin
}

// samplePoints resamples the closed polygon at seamSamples points by arc
// length with outward unit normals, skipping chin edges.
func (d *seamDetector) samplePoints(poly [26][2]float64, chin [26]bool) []seamPoint {
	var cx, cy float64
	for _, q := range poly {
		cx, cy = cx+q[0], cy+q[1]
	}
	cx, cy = cx/26, cy/26
	var total float64
	for i := range poly {
		j := (i + 1) % len(poly)
		total += math.Hypot(poly[j][0]-poly[i][0], poly[j][1]-poly[i][1])
	}
	d.pts = d.pts[:0]
	if total <= 0 {
		return d.pts
	}
	step := total / seamSamples
	next := step / 2
	var acc float64
	for i := range poly {
		j := (i + 1) % len(poly)
		ex, ey := poly[j][0]-poly[i][0], poly[j][1]-poly[i][1]
		l := math.Hypot(ex, ey)
		for l > 0 && next <= acc+l {
			t := (next - acc) / l
			next += step
			if chin[i] && chin[j] {
				continue
			}
			x, y := poly[i][0]+t*ex, poly[i][1]+t*ey
			nx, ny := ey/l, -ex/l
			if (x-cx)*nx+(y-cy)*ny < 0 {
				nx, ny = -nx, -ny
			}
			d.pts = append(d.pts, seamPoint{x, y, nx, ny})
		}
		acc += l
	}
	return d.pts
}

func (d *seamDetector) add(fc *frameCtx) {
	if fc.lm == nil || fc.iod < 20 {
		return
	}
	f := fc.f
	poly, chin := d.hull(fc)
	pts := d.samplePoints(poly, chin)
	if len(pts) < seamSamples/2 {
		return
	}
	delta := math.Max(2, 0.05*fc.iod)
	W, H := f.Width, f.Height
	cw := W / 2
	yAt := func(x, y float64) (float64, bool) {
		xi, yi := int(x+0.5), int(y+0.5)
		if xi < 1 || yi < 1 || xi >= W-1 || yi >= H-1 {
			return 0, false
		}
		return float64(f.Y[yi*W+xi]), true
	}
	cAt := func(x, y float64) (float64, float64) {
		if !fc.chroma {
			return 128, 128
		}
		k := (int(y+0.5)/2)*cw + int(x+0.5)/2
		return float64(f.U[k]), float64(f.V[k])
	}
	lapAt := func(x, y float64) (float64, bool) {
		xi, yi := int(x+0.5), int(y+0.5)
		if xi < 1 || yi < 1 || xi >= W-1 || yi >= H-1 {
			return 0, false
		}
		i := yi*W + xi
		return math.Abs(float64(int(f.Y[i-1]) + int(f.Y[i+1]) + int(f.Y[i-W]) + int(f.Y[i+W]) - 4*int(f.Y[i]))), true
	}
	var lv [seamLevels]float64
	var lt [seamLevels]float64
	for l, inset := range seamInsets {
		d.exc, d.texs = d.exc[:0], d.texs[:0]
		for _, p := range pts {
			bx, by := p.x-inset*fc.iod*p.nx, p.y-inset*fc.iod*p.ny
			var y [7]float64 // offsets -3..3 delta (index 3 unused)
			ok := true
			for s := -3; s <= 3; s++ {
				if s == 0 {
					continue
				}
				v, good := yAt(bx+float64(s)*delta*p.nx, by+float64(s)*delta*p.ny)
				if !good {
					ok = false
					break
				}
				y[s+3] = v
			}
			if !ok {
				continue
			}
			// Step across the curve against the slope on either side, as
			// a scale-free ratio in -1..1 (luma and chroma), so that neither
			// contrast nor exposure changes the measure.
			step := math.Abs(y[4] - y[2])
			slope := (math.Abs(y[6]-y[4]) + math.Abs(y[2]-y[0])) / 2
			u1, v1 := cAt(bx+delta*p.nx, by+delta*p.ny)
			u0, v0 := cAt(bx-delta*p.nx, by-delta*p.ny)
			u3, v3 := cAt(bx+3*delta*p.nx, by+3*delta*p.ny)
			um, vm := cAt(bx-3*delta*p.nx, by-3*delta*p.ny)
			cstep := math.Hypot(u1-u0, v1-v0)
			cslope := (math.Hypot(u3-u1, v3-v1) + math.Hypot(u0-um, v0-vm)) / 2
			d.exc = append(d.exc, (step-slope)/(step+slope+4)+(cstep-cslope)/(cstep+cslope+2))
			// Texture just inside against just outside.
			var ein, eout float64
			for s := 1; s <= 2; s++ {
				a, _ := lapAt(bx-float64(s)*delta*p.nx, by-float64(s)*delta*p.ny)
				b, _ := lapAt(bx+float64(s)*delta*p.nx, by+float64(s)*delta*p.ny)
				ein, eout = ein+a, eout+b
			}
			d.texs = append(d.texs, (eout-ein)/(eout+ein+2))
		}
		if len(d.exc) < seamSamples/3 {
			return
		}
		lv[l] = dsp.Median(d.exc)
		lt[l] = dsp.Median(d.texs)
	}
	for l := range lv {
		d.sum[l] += lv[l]
		d.tex[l] += lt[l]
	}
	d.n++
}

// measure is the strongest inset level's seam measure (mean step
// dominance plus mean texture step) over the current window, and that
// level's texture step alone.
func (d *seamDetector) measure() (seam, tex float64) {
	seam = math.Inf(-1)
	for l := range d.sum {
		v := (d.sum[l] + d.tex[l]) / float64(d.n)
		if v > seam {
			seam, tex = v, d.tex[l]/float64(d.n)
		}
	}
	return seam, tex
}

// Seam thresholds (step dominance plus texture step, about -1..3). The
// genuine devset clips stay at or below 0 and the seamlessClone fixture
// reaches 0.2.
const (
	seamMid   = 0.15
	seamWidth = 0.03
)

func (d *seamDetector) score() (windowScore, bool) {
	if d.n < 3 {
		return windowScore{}, false
	}
	exc, tex := d.measure()
	s := sigmoid(exc, seamMid, seamWidth)
	_ = tex
	return windowScore{Score: s, Confidence: 0.5 * saturate(float64(d.n), 8), Value: exc}, true
}

func (d *seamDetector) reset() {
	if d.n >= 3 && len(d.all) < maxSessionSamples {
		exc, tex := d.measure()
		d.all = append(d.all, exc)
		d.allTex = append(d.allTex, tex)
	}
	d.sum, d.tex, d.n = [seamLevels]float64{}, [seamLevels]float64{}, 0
}

func (d *seamDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.5)
	var vals []float64
	for _, w := range ws {
		vals = append(vals, w.Value)
	}
	m := dsp.Median(vals)
	sg := models.Signal{Score: score, Confidence: conf, Value: m, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "blend seam not measured (no landmarks on a large enough face)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("a blend seam runs around the face (step %.1f levels beyond the skin's slope, %d of %d windows)", m, flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("no blend seam around the face (excess step %.1f)", m)
	}
	return sg
}

func (d *seamDetector) features() map[string]float64 {
	exc, tex := math.NaN(), math.NaN()
	if d.n > 0 {
		exc, tex = d.measure()
	}
	vals := append([]float64(nil), d.all...)
	texs := append([]float64(nil), d.allTex...)
	if !math.IsNaN(exc) {
		vals, texs = append(vals, exc), append(texs, tex)
	}
	return map[string]float64{"seam": dsp.Median(vals), "seam_max": dsp.Quantile(vals, 1), "texture_step": dsp.Median(texs)}
}
