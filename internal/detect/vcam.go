package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// vcamDetector looks for a virtual camera (OBS, a face-swap tool's output
// device, a video file played as a webcam):
//   - frame-interval regularity: a real camera's capture times wander by a
//     millisecond or more around the nominal interval, a software source
//     ticks on a timer. Judged only with Config.LiveCapture, from the times
//     given to AddFrameTime (or the analysed frames' times);
//   - missing sensor noise: a camera sensor leaves noise in every flat, lit
//     region; rendered or heavily processed video has none. Measured as the
//     10th percentile of the Laplacian energy of the measurable background
//     blocks (video coding removes some noise too, so this cue is weighted
//     low);
//   - repeated frames: identical consecutive analysed frames, as when a
//     lower-rate source is padded to the stream's rate.
//
// Value: the share of regular intervals when judged, else the noise floor.
type vcamDetector struct {
	live      bool
	last      time.Time
	intervals []float64 // ms, bounded ring of the most recent
	ext       bool      // AddFrameTime was used
	noise     []float64 // per analysed frame
	allNoise  []float64
	prevSig   []uint8
	sig       []uint8
	repeats   int
	compared  int
	winRep    int
	winCmp    int
	scratch   []float64
}

const maxIntervals = 3000

func newVcamDetector(live bool) *vcamDetector { return &vcamDetector{live: live} }

func (d *vcamDetector) kind() string { return KindVirtualCamera }

func (d *vcamDetector) addTime(t time.Time) {
	if !d.ext {
		d.ext, d.last, d.intervals = true, time.Time{}, d.intervals[:0]
	}
	d.interval(t)
}

func (d *vcamDetector) interval(t time.Time) {
	if !d.last.IsZero() {
		if iv := t.Sub(d.last); iv > 0 && iv < 500*time.Millisecond {
			if len(d.intervals) >= maxIntervals {
				d.intervals = append(d.intervals[:0], d.intervals[maxIntervals/2:]...)
			}
			d.intervals = append(d.intervals, float64(iv.Microseconds())/1000)
		}
	}
	d.last = t
}

func (d *vcamDetector) add(fc *frameCtx) {
	if !d.ext {
		d.interval(fc.t)
	}
	// Noise floor over the background blocks and the ring.
	d.scratch = d.scratch[:0]
	for _, bs := range [][]block{fc.farBlocks, fc.ringBlocks} {
		for _, b := range bs {
			if b.mean >= 40 && b.mean <= 220 {
				d.scratch = append(d.scratch, b.lap)
			}
		}
	}
	if len(d.scratch) >= 20 {
		v := dsp.Quantile(d.scratch, 0.1)
		d.noise = append(d.noise, v)
		if len(d.allNoise) < maxSessionSamples {
			d.allNoise = append(d.allNoise, v)
		}
	}
	// Repeated frames: a sparse fixed sample of the Y plane.
	f := fc.f
	d.sig = d.sig[:0]
	for y := f.Height / 17; y < f.Height; y += f.Height / 17 {
		for x := f.Width / 33; x < f.Width; x += f.Width / 33 {
			d.sig = append(d.sig, f.Y[y*f.Width+x])
		}
	}
	if len(d.prevSig) == len(d.sig) && len(d.sig) > 0 {
		var sad int
		for i, v := range d.sig {
			sad += absInt(int(v) - int(d.prevSig[i]))
		}
		d.compared++
		d.winCmp++
		if float64(sad)/float64(len(d.sig)) < 0.25 {
			d.repeats++
			d.winRep++
		}
	}
	d.prevSig, d.sig = d.sig, d.prevSig
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// regularity returns the share of intervals within 0.25 ms of the median
// interval, and how many intervals there were.
func (d *vcamDetector) regularity() (float64, int) {
	n := len(d.intervals)
	if n < 30 {
		return 0, n
	}
	med := dsp.Median(d.intervals)
	reg := 0
	for _, iv := range d.intervals {
		if math.Abs(iv-med) <= 0.25 {
			reg++
		}
	}
	return float64(reg) / float64(n), n
}

// Virtual-camera thresholds.
const (
	vcamNoiseMid   = 0.1 // Laplacian energy of the flattest background blocks: only "none at all" counts
	vcamNoiseWidth = 0.04
	vcamRegMid     = 0.8 // share of intervals on the median
	vcamRegWidth   = 0.05
)

func (d *vcamDetector) cues(noise []float64, rep, cmp int) (score, conf, value float64) {
	var noiseEv, noiseRel float64
	if len(noise) >= 3 {
		nf := dsp.Median(noise)
		noiseEv = sigmoid(-nf, -vcamNoiseMid, vcamNoiseWidth)
		noiseRel = saturate(float64(len(noise)), 5)
		value = nf
	}
	var repEv, repRel float64
	if cmp >= 5 {
		repEv = dsp.Clamp01((float64(rep)/float64(cmp) - 0.05) / 0.2)
		repRel = saturate(float64(cmp), 10)
	}
	var regEv, regRel float64
	if d.live {
		if r, n := d.regularity(); n >= 30 {
			regEv = sigmoid(r, vcamRegMid, vcamRegWidth)
			regRel = saturate(float64(n), 100)
			value = r
		}
	}
	score = 1 - (1-0.5*noiseEv)*(1-0.6*repEv)*(1-0.7*regEv)
	// The noise cue alone is weak (video coding flattens noise too, and
	// genuine devset clips reach 0): its confidence is low.
	conf = math.Max(0.15*noiseRel, math.Max(0.5*repRel*repEv, 0.7*regRel))
	return score, conf, value
}

func (d *vcamDetector) score() (windowScore, bool) {
	if len(d.noise) < 3 && d.winCmp < 5 {
		return windowScore{}, false
	}
	s, c, v := d.cues(d.noise, d.winRep, d.winCmp)
	return windowScore{Score: s, Confidence: c, Value: v}, true
}

func (d *vcamDetector) reset() { d.noise, d.winRep, d.winCmp = d.noise[:0], 0, 0 }

func (d *vcamDetector) signal(ws []Window) models.Signal {
	s, c, v := d.cues(d.allNoise, d.repeats, d.compared)
	sg := models.Signal{Score: s, Confidence: c, Value: v}
	if len(ws) > 0 {
		_, _, top, _ := aggregate(ws, 1)
		sg.At = top.From
	}
	reg, n := d.regularity()
	timing := "frame timing not judged (recorded file)"
	if d.live {
		timing = fmt.Sprintf("%.0f %% of %d frame intervals exactly regular", 100*reg, n)
		if n < 30 {
			timing = "too few frame intervals to judge timing"
		}
	}
	rep := 0.0
	if d.compared > 0 {
		rep = 100 * float64(d.repeats) / float64(d.compared)
	}
	verdict := "no sign of a virtual camera in the video itself" // not proof of a physical one: the device labels are judged elsewhere
	if s >= 0.5 {
		verdict = "looks like a virtual camera"
	}
	sg.Reason = fmt.Sprintf("%s: %s; background noise floor %.2f; %.0f %% repeated frames", verdict, timing, dsp.Median(d.allNoise), rep)
	return sg
}

func (d *vcamDetector) features() map[string]float64 {
	reg, n := d.regularity()
	rep := 0.0
	if d.compared > 0 {
		rep = float64(d.repeats) / float64(d.compared)
	}
	return map[string]float64{"noise_floor": dsp.Median(d.allNoise), "repeats": rep, "regular": reg, "intervals": float64(n)}
}
