package voice

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

type inputs struct {
	human, espeak, narrow Features
}

var cachedInputs *inputs

// loadInputs analyses the three test inputs once per test binary.
func loadInputs(t *testing.T) inputs {
	t.Helper()
	dir := generated(t)
	if cachedInputs != nil {
		return *cachedInputs
	}
	_, h := analyse(load48(t, ljPath))
	_, e := analyse(load48(t, filepath.Join(dir, "espeak48.wav")))
	_, n := analyse(load48(t, filepath.Join(dir, "lj8k.wav")))
	for name, f := range map[string]Features{"human": h, "espeak": e, "narrow": n} {
		t.Logf("%-6s speech=%d voiced=%d cutoff=%.0f Hz above8k=%.4f above11k=%.5f flatness=%.4f rolloff=%.0f Hz f0=%.1f Hz jitter local=%.2f%% pq5=%.2f%% shimmer local=%.2f%% apq5=%.2f%% hnr=%.1f dB line=%.1f@%.0f Hz",
			name, f.SpeechFrames, f.VoicedFrames, f.Band.CutoffHz, f.Band.Above8k, f.Band.Above11k, f.Flatness.Median, f.Rolloff.Median,
			f.Pitch.Median, 100*f.Jitter.Local, 100*f.Jitter.PQ5, 100*f.Shimmer.Local, 100*f.Shimmer.PQ5, f.HNR.Median, f.Periodic.Prominence, f.Periodic.Hz)
	}
	cachedInputs = &inputs{h, e, n}
	return *cachedInputs
}

func TestFeaturesReportFrames(t *testing.T) {
	in := loadInputs(t)
	for name, f := range map[string]Features{"human": in.human, "espeak": in.espeak, "narrow": in.narrow} {
		if f.SpeechFrames == 0 || f.VoicedFrames == 0 || f.VoicedFrames > f.SpeechFrames || f.SpeechFrames > f.Frames {
			t.Errorf("%s: implausible frame counts %d/%d/%d", name, f.Frames, f.SpeechFrames, f.VoicedFrames)
		}
		counts := map[string]int{
			"band": f.Band.Frames, "flatness": f.Flatness.Frames, "rolloff": f.Rolloff.Frames, "pitch": f.Pitch.Frames,
			"jitter": f.Jitter.Frames, "shimmer": f.Shimmer.Frames, "hnr": f.HNR.Frames, "periodic": f.Periodic.Frames,
		}
		for feat, n := range counts {
			if n <= 0 || n > f.SpeechFrames+modSize/envPerFrm {
				t.Errorf("%s: %s used %d frames (speech %d)", name, feat, n, f.SpeechFrames)
			}
		}
		if f.Pitch.Frames != f.VoicedFrames {
			t.Errorf("%s: pitch frames %d != voiced %d", name, f.Pitch.Frames, f.VoicedFrames)
		}
	}
}

func TestEspeakDiffersFromHuman(t *testing.T) {
	in := loadInputs(t)
	h, e := in.human, in.espeak
	// A formant synthesiser has a machine-regular period: its irregular period
	// perturbation is a fraction of a human's (measured 0.35 % vs 0.64 %).
	if !(e.Jitter.PQ5 < 0.75*h.Jitter.PQ5) {
		t.Errorf("espeak jitter PQ5 %.3f%% not clearly below human %.3f%%", 100*e.Jitter.PQ5, 100*h.Jitter.PQ5)
	}
	if !(e.Jitter.Local < h.Jitter.Local) {
		t.Errorf("espeak local jitter %.3f%% not below human %.3f%%", 100*e.Jitter.Local, 100*h.Jitter.Local)
	}
	// Its steady pitch and fixed synthesis hops leave a sharp line in the
	// envelope modulation spectrum.
	if !(e.Periodic.Prominence > 3*h.Periodic.Prominence) {
		t.Errorf("espeak envelope line %.1f not well above human %.1f", e.Periodic.Prominence, h.Periodic.Prominence)
	}
	// Pitch: espeak's default voice is male (~100 Hz), the LJ speaker female (~220 Hz).
	if !(e.Pitch.Median > 80 && e.Pitch.Median < 130 && h.Pitch.Median > 170 && h.Pitch.Median < 260) {
		t.Errorf("pitch medians espeak %.1f, human %.1f Hz out of range", e.Pitch.Median, h.Pitch.Median)
	}
	// Both are rendered at 22.05 kHz: the band limit must not tell them apart.
	for name, f := range map[string]Features{"human": h, "espeak": e} {
		if f.Band.CutoffHz < 9500 || f.Band.CutoffHz > 11500 {
			t.Errorf("%s cutoff %.0f Hz, want ≈ 11 kHz", name, f.Band.CutoffHz)
		}
		if f.Band.Above12k > 1e-4 {
			t.Errorf("%s energy above 12 kHz %.2g, want ≈ 0", name, f.Band.Above12k)
		}
	}
}

func TestNarrowbandCopy(t *testing.T) {
	in := loadInputs(t)
	h, n := in.human, in.narrow
	if !(n.Band.Above8k < h.Band.Above8k/100) {
		t.Errorf("narrowband energy above 8 kHz %.3g not far below human %.3g", n.Band.Above8k, h.Band.Above8k)
	}
	if n.Band.CutoffHz < 3000 || n.Band.CutoffHz > 4500 {
		t.Errorf("narrowband cutoff %.0f Hz, want ≈ 4 kHz", n.Band.CutoffHz)
	}
	if !(n.Rolloff.Median < h.Rolloff.Median) {
		t.Errorf("narrowband roll-off %.0f not below human %.0f", n.Rolloff.Median, h.Rolloff.Median)
	}
	// Pitch-domain measures run below 3 kHz and must not change with the band.
	if d := math.Abs(n.Jitter.PQ5-h.Jitter.PQ5) / h.Jitter.PQ5; d > 0.1 {
		t.Errorf("jitter PQ5 changed by %.0f%% with the band (%.3f vs %.3f)", 100*d, n.Jitter.PQ5, h.Jitter.PQ5)
	}
	if d := math.Abs(n.HNR.Median - h.HNR.Median); d > 1.5 {
		t.Errorf("HNR changed by %.1f dB with the band", d)
	}
}

func TestDetectorOnInputs(t *testing.T) {
	in := loadInputs(t)
	var d Detector
	h, e, n := d.Assess(in.human), d.Assess(in.espeak), d.Assess(in.narrow)
	t.Logf("human %.2f/%.2f: %s", h.Score, h.Confidence, h.Reason)
	t.Logf("espeak %.2f/%.2f: %s", e.Score, e.Confidence, e.Reason)
	t.Logf("narrow %.2f/%.2f: %s", n.Score, n.Confidence, n.Reason)
	// The human clip is band-limited at 11 kHz: the band cue fires, yet the
	// score must stay low.
	if band := h.Cues[3]; band.Name != CueBand || band.Evidence != 1 {
		t.Fatalf("expected the band-limit cue to fire on the 22.05 kHz human clip: %+v", band)
	}
	if h.Score > 0.3 || n.Score > 0.3 {
		t.Errorf("human scores %.2f (11 kHz) and %.2f (4 kHz) should be low", h.Score, n.Score)
	}
	if e.Score < 0.6 || e.Score < h.Score+0.4 {
		t.Errorf("espeak score %.2f should be high and well above human %.2f", e.Score, h.Score)
	}
	for name, as := range map[string]Assessment{"human": h, "espeak": e, "narrow": n} {
		if as.Confidence < 0.3 || as.Confidence > 0.8 {
			t.Errorf("%s confidence %.2f outside [0.3, 0.8] for several seconds of speech", name, as.Confidence)
		}
	}
	sig := d.Signal(in.espeak, timeZero)
	if sig.Kind != SignalKind || sig.Score != e.Score || sig.Confidence != e.Confidence || sig.Reason == "" {
		t.Errorf("signal %+v does not match assessment", sig)
	}
}

func TestFeaturesJSONHasNoNaN(t *testing.T) {
	cases := map[string][]float32{
		"silence": make([]float32, SampleRate),
		"speech":  load48(t, ljPath2),
		"short":   make([]float32, 100),
	}
	for name, x := range cases {
		_, f := analyse(x)
		if _, err := json.Marshal(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := json.Marshal(Detector{}.Assess(f)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
