package detect

import (
	"fmt"
	"image"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// flickerDetector looks for frame-to-frame brightness and colour changes of
// the face that the rest of the picture does not share. A face-swap model
// renders every frame on its own, so the swapped face's level and tint
// jitter; a real face changes with the scene's light, smoothly.
//
// Per frame: the mean Y, Cb and Cr of the skin patches (forehead and cheeks
// when landmarks exist, else the inner face) and the median change of the
// far background blocks since the previous frame (the scene's global change,
// matched block by block). The face series minus the accumulated background
// change is high-passed with a three-point second difference; the detector
// keeps its robust RMS (1.4826 × median absolute value). Frames
// with fast head motion are skipped (shading changes as the head turns).
// Value: the RMS high-passed face luma residual, in code values.
type flickerDetector struct {
	prevBG  []float64 // far-block means of the previous frame by grid cell, NaN when absent
	curBG   []float64
	bgDrift float64
	hist    [3]flickSample // last three usable frames
	nhist   int
	resY    []float64 // second-difference residuals in the current window
	resC    []float64
	resBG   []float64
	all     []float64
	allC    []float64
	diffs   []float64
}

type flickSample struct {
	t         time.Time
	y, cb, cr float64
	bg        float64 // accumulated background drift
	face      image.Rectangle
}

func newFlickerDetector() *flickerDetector {
	return &flickerDetector{}
}

func (d *flickerDetector) kind() string { return KindFlicker }

func (d *flickerDetector) add(fc *frameCtx) {
	// Global change of the background, block by block.
	const stride = 3 * blockSize // the far-block grid
	cols := fc.f.Width/stride + 1
	n := cols * (fc.f.Height/stride + 1)
	if len(d.curBG) != n {
		d.curBG, d.prevBG = make([]float64, n), make([]float64, n)
		for i := range d.prevBG {
			d.prevBG[i] = math.NaN()
		}
	}
	for i := range d.curBG {
		d.curBG[i] = math.NaN()
	}
	diffs := d.diffs[:0]
	for _, b := range fc.farBlocks {
		if !b.measurable() {
			continue
		}
		k := (b.y/stride)*cols + b.x/stride
		d.curBG[k] = b.mean
		if v := d.prevBG[k]; !math.IsNaN(v) {
			diffs = append(diffs, b.mean-v)
		}
	}
	d.diffs = diffs
	d.prevBG, d.curBG = d.curBG, d.prevBG
	if len(diffs) >= 10 {
		// A scene cut (most of the background changed a lot) restarts the history.
		big := 0
		for _, v := range diffs {
			if math.Abs(v) > 20 {
				big++
			}
		}
		if big*2 > len(diffs) {
			d.nhist = 0
			return
		}
		d.bgDrift += dsp.Median(diffs)
	}
	if !fc.usable() {
		d.nhist = 0
		return
	}
	var y, cb, cr float64
	n = 0
	if fc.lm != nil {
		for _, r := range fc.skinPatches() {
			if py, pu, pv, ok := meanYUV(fc.f, r, 1); ok {
				y, cb, cr = y+py, cb+pu, cr+pv
				n++
			}
		}
	} else if py, pu, pv, ok := meanYUV(fc.f, fc.innerFace(), 2); ok {
		y, cb, cr, n = py, pu, pv, 1
	}
	if n == 0 {
		d.nhist = 0
		return
	}
	s := flickSample{t: fc.t, y: y / float64(n), cb: cb / float64(n), cr: cr / float64(n), bg: d.bgDrift, face: fc.face}
	// A gap, fast motion (the face centre moved by more than 15 % of its
	// width) or a jump of the box size (another face, a re-detection)
	// restarts the history.
	if d.nhist > 0 {
		p := d.hist[(d.nhist-1)%3]
		gap := s.t.Sub(p.t)
		dx := float64((s.face.Min.X+s.face.Max.X)-(p.face.Min.X+p.face.Max.X)) / 2
		dy := float64((s.face.Min.Y+s.face.Max.Y)-(p.face.Min.Y+p.face.Max.Y)) / 2
		sizeJump := math.Abs(float64(s.face.Dx()-p.face.Dx())) > 0.2*float64(p.face.Dx())
		if gap <= 0 || gap > 400*time.Millisecond || math.Hypot(dx, dy) > 0.15*float64(s.face.Dx()) || sizeJump {
			d.nhist = 0
		}
	}
	d.hist[d.nhist%3] = s
	d.nhist++
	if d.nhist < 3 {
		return
	}
	a, b, c := d.hist[(d.nhist-3)%3], d.hist[(d.nhist-2)%3], d.hist[(d.nhist-1)%3]
	// Face levels net of the background's drift.
	fa, fb, fcv := a.y-a.bg, b.y-b.bg, c.y-c.bg
	hy := fb - (fa+fcv)/2
	hcb := b.cb - (a.cb+c.cb)/2
	hcr := b.cr - (a.cr+c.cr)/2
	hbg := b.bg - (a.bg+c.bg)/2
	d.resY = append(d.resY, hy)
	d.resC = append(d.resC, math.Hypot(hcb, hcr))
	d.resBG = append(d.resBG, hbg)
	if len(d.all) < maxSessionSamples {
		d.all = append(d.all, hy)
		d.allC = append(d.allC, math.Hypot(hcb, hcr))
	}
}

// Flicker thresholds: RMS of the high-passed face luma and chroma (code
// values). Genuine devset clips stay below 2.0 (luma) and 0.45 (chroma).
const (
	flickerMid    = 2.4
	flickerWidth  = 0.3
	flickerCMid   = 0.55
	flickerCWidth = 0.07
)

func flickerScore(y, c float64) float64 {
	return math.Max(sigmoid(y, flickerMid, flickerWidth), sigmoid(c, flickerCMid, flickerCWidth))
}

func (d *flickerDetector) score() (windowScore, bool) {
	if len(d.resY) < 5 {
		return windowScore{}, false
	}
	v := robustRMS(d.resY)
	return windowScore{
		Score:      flickerScore(v, robustRMS(d.resC)),
		Confidence: 0.7 * saturate(float64(len(d.resY)), 10),
		Value:      v,
	}, true
}

func (d *flickerDetector) reset() { d.resY, d.resC, d.resBG = d.resY[:0], d.resC[:0], d.resBG[:0] }

func (d *flickerDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.6)
	v := robustRMS(d.all)
	sg := models.Signal{Score: score, Confidence: conf, Value: v, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "face flicker not measured (no steady face)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("face brightness or tint flickers independently of the scene (luma %.1f, chroma %.2f levels RMS; %d of %d windows)", v, robustRMS(d.allC), flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("face brightness follows the scene (luma %.1f, chroma %.2f levels RMS flicker)", v, robustRMS(d.allC))
	}
	return sg
}

func (d *flickerDetector) features() map[string]float64 {
	return map[string]float64{"rms_y": robustRMS(d.all), "rms_c": robustRMS(d.allC), "raw_rms_y": dsp.RMS(d.all), "n": float64(len(d.all))}
}

// robustRMS estimates the RMS of a zero-centred series from its median
// absolute value (1.4826·MAD for a normal distribution), so that a few
// outliers (a cut the detector missed, a re-detection) do not dominate.
func robustRMS(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return 1.4826 * dsp.Quantile(absAll(x), 0.5)
}

func absAll(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Abs(v)
	}
	return out
}
