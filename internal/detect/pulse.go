package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// pulseDetector looks for the blood-volume pulse in the skin colour
// (remote photoplethysmography): the POS projection (Wang et al. 2017) of the
// mean RGB of the forehead and cheeks, band 0.7–3 Hz, judged by the share of
// the band's power at the strongest frequency and its harmonic. A live face
// usually shows a pulse; a mask, a screen or a generated face often does not.
// Video coding, motion and low light erase it too, so this is weak evidence
// and never proof: its confidence is capped at 0.25.
//
// The detector keeps the last pulseSpan of samples and judges them every
// window. Value: the pulse SNR (dB) of the session (median over windows).
type pulseDetector struct {
	buf  []pulseSample
	snrs []float64
	bpms []float64
	cur  float64
	has  bool
}

type pulseSample struct {
	t       time.Time
	r, g, b float64
}

const (
	pulseSpan    = 10 * time.Second
	pulseMinSpan = 6 * time.Second
	pulseConfCap = 0.25
)

func newPulseDetector() *pulseDetector { return &pulseDetector{} }

func (d *pulseDetector) kind() string { return KindPulse }

func (d *pulseDetector) add(fc *frameCtx) {
	if fc.lm == nil || !fc.chroma {
		return
	}
	var y, u, v float64
	n := 0
	for _, r := range fc.skinPatches() {
		if py, pu, pv, ok := meanYUV(fc.f, r, 1); ok {
			y, u, v = y+py, u+pu, v+pv
			n++
		}
	}
	if n < 2 {
		return
	}
	r, g, b := yuvToRGB(y/float64(n), u/float64(n), v/float64(n))
	d.buf = append(d.buf, pulseSample{t: fc.t, r: r, g: g, b: b})
	// Keep pulseSpan of history.
	i := 0
	for i < len(d.buf) && fc.t.Sub(d.buf[i].t) > pulseSpan {
		i++
	}
	if i > 0 {
		d.buf = append(d.buf[:0], d.buf[i:]...)
	}
}

// measure runs POS on the buffer and returns the SNR in dB of the best
// frequency in 0.7–3 Hz and that frequency in beats per minute.
func (d *pulseDetector) measure() (snr, bpm float64, ok bool) {
	n := len(d.buf)
	if n < 30 || d.buf[n-1].t.Sub(d.buf[0].t) < pulseMinSpan {
		return 0, 0, false
	}
	span := d.buf[n-1].t.Sub(d.buf[0].t).Seconds()
	fs := float64(n-1) / span
	if fs < 6.5 { // Nyquist must clear 3 Hz plus margin
		return 0, 0, false
	}
	// Temporal normalisation by the window mean, then POS.
	var mr, mg, mb float64
	for _, s := range d.buf {
		mr, mg, mb = mr+s.r, mg+s.g, mb+s.b
	}
	mr, mg, mb = mr/float64(n), mg/float64(n), mb/float64(n)
	if mr < 5 || mg < 5 || mb < 5 {
		return 0, 0, false
	}
	s1, s2 := make([]float64, n), make([]float64, n)
	for i, s := range d.buf {
		r, g, b := s.r/mr, s.g/mg, s.b/mb
		s1[i] = g - b
		s2[i] = -2*r + g + b
	}
	a := dsp.StdDev(s1) / math.Max(dsp.StdDev(s2), 1e-9)
	h := make([]float64, n)
	ts := make([]float64, n)
	for i := range h {
		h[i] = s1[i] + a*s2[i]
		ts[i] = d.buf[i].t.Sub(d.buf[0].t).Seconds()
	}
	// Detrend (least-squares line).
	dsp.Detrend(ts, h)
	// Power on a 0.02 Hz grid from 0.5 to 4 Hz (non-uniform DFT).
	type fp struct{ f, p float64 }
	var spec []fp
	for f := 0.5; f <= math.Min(4, fs/2); f += 0.02 {
		var re, im float64
		for i, v := range h {
			ph := 2 * math.Pi * f * ts[i]
			re += v * math.Cos(ph)
			im -= v * math.Sin(ph)
		}
		spec = append(spec, fp{f, re*re + im*im})
	}
	best := -1
	for i, s := range spec {
		if s.f >= 0.7 && s.f <= 3 && (best < 0 || s.p > spec[best].p) {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	f0 := spec[best].f
	var sig, tot float64
	for _, s := range spec {
		tot += s.p
		if math.Abs(s.f-f0) <= 0.1 || math.Abs(s.f-2*f0) <= 0.1 {
			sig += s.p
		}
	}
	if tot <= 0 || sig >= tot {
		return 0, 0, false
	}
	return 10 * math.Log10(sig/(tot-sig)), 60 * f0, true
}

// Pulse thresholds (SNR in dB): no clear pulse below about -6 dB.
const (
	pulseSNRMid   = -6.0
	pulseSNRWidth = 1.5
)

func (d *pulseDetector) score() (windowScore, bool) {
	snr, bpm, ok := d.measure()
	if !ok {
		return windowScore{}, false
	}
	d.cur, d.has = snr, true
	_ = bpm
	return windowScore{Score: sigmoid(-snr, -pulseSNRMid, pulseSNRWidth), Confidence: pulseConfCap, Value: snr}, true
}

func (d *pulseDetector) reset() {
	if snr, bpm, ok := d.measure(); ok && len(d.snrs) < maxSessionSamples {
		d.snrs = append(d.snrs, snr)
		d.bpms = append(d.bpms, bpm)
	}
}

func (d *pulseDetector) signal(ws []Window) models.Signal {
	score, conf, top, _ := aggregate(ws, pulseConfCap)
	snrs := append([]float64(nil), d.snrs...)
	if snr, _, ok := d.measure(); ok {
		snrs = append(snrs, snr)
	}
	m := dsp.Median(snrs)
	sg := models.Signal{Score: score, Confidence: conf, Value: m, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "pulse not measured (needs 6 s of a steady face at 6.5+ fps)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("no clear pulse in the skin colour (SNR %.1f dB; weak evidence)", m)
	default:
		sg.Reason = fmt.Sprintf("a pulse-like rhythm is visible in the skin colour (SNR %.1f dB)", m)
	}
	return sg
}

func (d *pulseDetector) features() map[string]float64 {
	snr, bpm, _ := d.measure()
	return map[string]float64{"snr": snr, "bpm": bpm, "windows": float64(len(d.snrs))}
}
