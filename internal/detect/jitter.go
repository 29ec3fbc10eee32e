package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// jitterDetector measures how much the facial landmarks tremble from frame
// to frame beyond smooth motion. A swapped face is re-rendered on every
// frame, and its eyes, nose and mouth wobble slightly against each other.
//
// Per frame with landmarks: the stable points (eye corners and lids, nose
// bridge and base) are put in a face-normalised frame (origin between the
// eyes, unit inter-ocular distance, eye line horizontal), which removes
// translation, scale and roll. The jitter of a frame is the median over the
// points of the second difference of three consecutive frames (smooth motion
// cancels), divided by the square root of the frame gap in units of 1/15 s
// so that the measure does not depend much on the analysis rate. Value:
// median jitter in thousandths of the inter-ocular distance.
type jitterDetector struct {
	hist [3]jitterSample
	nh   int
	cur  []float64
	all  []float64
}

// jitterPoints are the landmarks that move least with expressions.
var jitterPoints = [...]int{27, 28, 29, 30, 31, 33, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47}

type jitterSample struct {
	t   time.Time
	pts [len(jitterPoints)][2]float64
	yaw float64
}

func newJitterDetector() *jitterDetector { return &jitterDetector{} }

func (d *jitterDetector) kind() string { return KindJitter }

func (d *jitterDetector) add(fc *frameCtx) {
	if fc.lm == nil {
		d.nh = 0
		return
	}
	s := jitterSample{t: fc.t, yaw: fc.o.Yaw}
	c, sn := math.Cos(-fc.eyeAng), math.Sin(-fc.eyeAng)
	for i, k := range jitterPoints {
		x := (float64(fc.lm[k][0]) - fc.eyeMid[0]) / fc.iod
		y := (float64(fc.lm[k][1]) - fc.eyeMid[1]) / fc.iod
		s.pts[i] = [2]float64{c*x - sn*y, sn*x + c*y}
	}
	if d.nh > 0 {
		gap := s.t.Sub(d.hist[(d.nh-1)%3].t)
		if gap <= 0 || gap > 300*time.Millisecond {
			d.nh = 0
		}
	}
	d.hist[d.nh%3] = s
	d.nh++
	if d.nh < 3 {
		return
	}
	a, b, e := &d.hist[(d.nh-3)%3], &d.hist[(d.nh-2)%3], &d.hist[(d.nh-1)%3]
	// Fast head turns change the 2-D geometry legitimately: skip them.
	if math.Abs(e.yaw-a.yaw) > 12 {
		return
	}
	var acc [len(jitterPoints)]float64
	for i := range jitterPoints {
		ax := b.pts[i][0] - (a.pts[i][0]+e.pts[i][0])/2
		ay := b.pts[i][1] - (a.pts[i][1]+e.pts[i][1])/2
		acc[i] = math.Hypot(ax, ay)
	}
	gap := e.t.Sub(a.t).Seconds() / 2 * 15 // frame gap in 1/15 s
	j := 1000 * dsp.Median(acc[:]) / math.Sqrt(math.Max(gap, 0.5))
	d.cur = append(d.cur, j)
	if len(d.all) < maxSessionSamples {
		d.all = append(d.all, j)
	}
}

// Jitter thresholds, in thousandths of the inter-ocular distance.
const (
	jitterMid   = 14.0
	jitterWidth = 2.5
)

func (d *jitterDetector) score() (windowScore, bool) {
	if len(d.cur) < 5 {
		return windowScore{}, false
	}
	m := dsp.Median(d.cur)
	return windowScore{Score: sigmoid(m, jitterMid, jitterWidth), Confidence: 0.6 * saturate(float64(len(d.cur)), 10), Value: m}, true
}

func (d *jitterDetector) reset() { d.cur = d.cur[:0] }

func (d *jitterDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.5)
	m := dsp.Median(d.all)
	sg := models.Signal{Score: score, Confidence: conf, Value: m, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "landmark jitter not measured (no landmarks on consecutive frames)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("facial landmarks tremble against each other (%.1f ‰ of eye distance, %d of %d windows)", m, flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("facial landmarks move smoothly (%.1f ‰ jitter)", m)
	}
	return sg
}

func (d *jitterDetector) features() map[string]float64 {
	return map[string]float64{"median": dsp.Median(d.all), "p75": dsp.Quantile(d.all, 0.75), "n": float64(len(d.all))}
}
