package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// photoDetector recognises a still picture held or moved in front of the
// camera (a printed photo, a photo on a phone, a still image fed through a
// virtual camera): its landmarks move only as one rigid plane, the eyes never
// blink and the expression never changes.
//
// Per window, with the landmarks of every analysed frame:
//   - non-rigidity: an affine map (the motion of any plane seen from afar)
//     is fitted from the first frame's inner landmarks (brows, eyes, nose,
//     mouth) to every later frame's; the 90th percentile of the fit
//     residuals, in thousandths of the inter-ocular distance. A photo stays
//     at the landmark noise floor however it moves; a live face adds
//     expression, speech and 3-D head rotation;
//   - expression: the spread of the mouth opening, the eye aspect ratio and
//     the brow height over the window;
//   - blink: the eye aspect ratio dipping below 70 % of its median.
//
// Value: the session's median non-rigidity (‰ IOD).
type photoDetector struct {
	win  []photoSample
	hist []photoWindow // measures of the closed windows
}

type photoSample struct {
	t     time.Time
	pts   [photoPoints][2]float64 // inner landmarks 17..67, in pixels
	iod   float64
	ear   float64
	mouth float64
	brow  float64 // brow height over the eyes / IOD
}

const (
	photoFirst  = 17
	photoPoints = 68 - photoFirst
	photoMaxWin = 400 // samples kept per window (30 fps for 13 s)
)

func newPhotoDetector() *photoDetector { return &photoDetector{} }

func (d *photoDetector) kind() string { return KindPhoto }

func (d *photoDetector) add(fc *frameCtx) {
	if fc.lm == nil || len(d.win) >= photoMaxWin {
		return
	}
	s := photoSample{t: fc.t, iod: fc.iod, ear: fc.o.EAR, mouth: fc.o.Mouth}
	for i := 0; i < photoPoints; i++ {
		s.pts[i] = [2]float64{float64(fc.lm[photoFirst+i][0]), float64(fc.lm[photoFirst+i][1])}
	}
	brow := centroid(fc.lm, 17, 27)
	eyes := centroid(fc.lm, 36, 48)
	s.brow = math.Hypot(brow[0]-eyes[0], brow[1]-eyes[1]) / fc.iod
	d.win = append(d.win, s)
}

// photoWindow holds the raw measures of one window.
type photoWindow struct {
	nonRigid float64 // p90 affine residual, ‰ IOD
	motion   float64 // p90 landmark displacement, ‰ IOD
	expr     float64 // expression spread (dimensionless)
	blink    bool
	span     time.Duration
	n        int
}

func (d *photoDetector) measure() (photoWindow, bool) {
	w := d.win
	if len(w) < 6 {
		return photoWindow{}, false
	}
	pw := photoWindow{n: len(w), span: w[len(w)-1].t.Sub(w[0].t)}
	if pw.span < 1500*time.Millisecond {
		return pw, false
	}
	ref := &w[0]
	var res, mot []float64
	for i := 1; i < len(w); i++ {
		r, m := affineResidual(&ref.pts, &w[i].pts)
		iod := (ref.iod + w[i].iod) / 2
		res = append(res, 1000*r/iod)
		mot = append(mot, 1000*m/iod)
	}
	pw.nonRigid = dsp.Quantile(res, 0.9)
	pw.motion = dsp.Quantile(mot, 0.9)
	ears, mouths, brows := make([]float64, len(w)), make([]float64, len(w)), make([]float64, len(w))
	for i, s := range w {
		ears[i], mouths[i], brows[i] = s.ear, s.mouth, s.brow
	}
	me := dsp.Median(ears)
	if me > 0 {
		pw.blink = dsp.Quantile(ears, 0.0) < 0.7*me
		pw.expr = dsp.StdDev(ears)/me + dsp.StdDev(mouths)/0.05 + dsp.StdDev(brows)/0.02
	}
	return pw, true
}

// affineResidual fits an affine map from a to b by least squares and returns
// the RMS residual and the RMS displacement of b from a, in pixels.
func affineResidual(a, b *[photoPoints][2]float64) (resid, disp float64) {
	// Centre a for conditioning.
	var cx, cy float64
	for _, p := range a {
		cx += p[0]
		cy += p[1]
	}
	cx /= photoPoints
	cy /= photoPoints
	var m [3][3]float64
	var vx, vy [3]float64
	for i, p := range a {
		x, y := p[0]-cx, p[1]-cy
		row := [3]float64{x, y, 1}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				m[r][c] += row[r] * row[c]
			}
			vx[r] += row[r] * b[i][0]
			vy[r] += row[r] * b[i][1]
		}
	}
	ax, ok1 := dsp.Solve3(m, vx, 1e-9)
	ay, ok2 := dsp.Solve3(m, vy, 1e-9)
	if !ok1 || !ok2 {
		return math.Inf(1), 0
	}
	var se, sd float64
	for i, p := range a {
		x, y := p[0]-cx, p[1]-cy
		ex := ax[0]*x + ax[1]*y + ax[2] - b[i][0]
		ey := ay[0]*x + ay[1]*y + ay[2] - b[i][1]
		se += ex*ex + ey*ey
		dx, dy := b[i][0]-p[0], b[i][1]-p[1]
		sd += dx*dx + dy*dy
	}
	return math.Sqrt(se / photoPoints), math.Sqrt(sd / photoPoints)
}

// Photo thresholds.
const (
	photoRigidMid   = 25.0 // ‰ IOD: a p90 affine residual below this looks planar
	photoRigidWidth = 5.0
	photoExprMid    = 1.0 // expression spread below this looks frozen
	photoExprWidth  = 0.25
)

func (d *photoDetector) score() (windowScore, bool) {
	pw, ok := d.measure()
	if !ok {
		return windowScore{}, false
	}
	rigid := sigmoid(-pw.nonRigid, -photoRigidMid, photoRigidWidth)
	frozen := sigmoid(-pw.expr, -photoExprMid, photoExprWidth)
	noBlink := 1.0
	if pw.blink {
		noBlink = 0
	}
	score := 0.5*rigid + 0.3*frozen + 0.2*noBlink
	if pw.blink {
		score = math.Min(score, 0.45) // a blink is hard for a photo to fake
	}
	conf := 0.8 * saturate(pw.span.Seconds(), 1) * saturate(float64(pw.n), 6)
	return windowScore{Score: score, Confidence: conf, Value: pw.nonRigid}, true
}

func (d *photoDetector) reset() {
	if pw, ok := d.measure(); ok && len(d.hist) < maxSessionSamples {
		d.hist = append(d.hist, pw)
	}
	d.win = d.win[:0]
}

func (d *photoDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.85)
	var vals []float64
	for _, pw := range d.windows() {
		vals = append(vals, pw.nonRigid)
	}
	m := dsp.Median(vals)
	sg := models.Signal{Score: score, Confidence: conf, Value: m, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "photo check not possible (landmarks on less than 1.5 s of video)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("face moves like a flat picture: rigid landmarks (%.0f ‰ non-rigid motion), no expression change or blink (%d of %d windows)", m, flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("face moves and changes expression like a live face (%.0f ‰ non-rigid motion)", m)
	}
	return sg
}

// windows returns the closed windows' measures plus the current one.
func (d *photoDetector) windows() []photoWindow {
	out := append([]photoWindow(nil), d.hist...)
	if pw, ok := d.measure(); ok {
		out = append(out, pw)
	}
	return out
}

func (d *photoDetector) features() map[string]float64 {
	ws := d.windows()
	var nr, mo, ex []float64
	blinks := 0
	for _, pw := range ws {
		nr, mo, ex = append(nr, pw.nonRigid), append(mo, pw.motion), append(ex, pw.expr)
		if pw.blink {
			blinks++
		}
	}
	return map[string]float64{"windows": float64(len(ws)), "nonrigid": dsp.Median(nr), "nonrigid_min": dsp.Quantile(nr, 0),
		"motion": dsp.Median(mo), "expr": dsp.Median(ex), "expr_min": dsp.Quantile(ex, 0), "blink_windows": float64(blinks)}
}
