package voice

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func speechFraction(frames []Frame) float64 {
	n := 0
	for _, f := range frames {
		if f.Speech {
			n++
		}
	}
	return float64(n) / float64(len(frames))
}

func TestVADFindsSpeech(t *testing.T) {
	x := load48(t, ljPath)
	frames, f := analyse(x)
	if got := speechFraction(frames); got < 0.6 || got > 0.98 {
		t.Errorf("speech fraction %.2f in read speech, want 0.6..0.98", got)
	}
	if f.VoicedFrames < f.SpeechFrames/4 {
		t.Errorf("only %d of %d speech frames voiced", f.VoicedFrames, f.SpeechFrames)
	}
	// The same speech over steady noise 25 dB below it is still found.
	n := noise(0.003, float64(len(x))/SampleRate, 7)
	mixed := make([]float32, len(x))
	for i := range x {
		mixed[i] = x[i] + n[i]
	}
	frames, _ = analyse(mixed)
	if got := speechFraction(frames); got < 0.4 {
		t.Errorf("speech fraction %.2f with background noise", got)
	}
	// Frame times step by 20 ms from the start time.
	if d := frames[10].At.Sub(frames[0].At); d != 200*time.Millisecond {
		t.Errorf("frame 10 at %v after frame 0", d)
	}
}

func TestVADSilenceAndSteadySignals(t *testing.T) {
	for name, x := range map[string][]float32{
		"digital silence": make([]float32, 3*SampleRate),
		"quiet noise":     noise(0.0005, 3, 1), // −66 dBFS: below the absolute minimum
		"steady noise":    noise(0.02, 5, 2),   // −34 dBFS but stationary: it is the floor
		"steady tone":     sine(440, 0.3, 5),
	} {
		frames, f := analyse(x)
		if s := speechFraction(frames); s != 0 || f.SpeechFrames != 0 || f.VoicedFrames != 0 {
			t.Errorf("%s: speech fraction %.2f, %d speech frames", name, s, f.SpeechFrames)
		}
		as := Detector{}.Assess(f)
		if as.Confidence != 0 || as.Score != 0 {
			t.Errorf("%s: detector did not abstain: %+v", name, as)
		}
	}
	frames, _ := analyse(make([]float32, FrameSize))
	if frames[0].RMSdB != -120 {
		t.Errorf("digital silence level %.1f, want -120", frames[0].RMSdB)
	}
}

func TestLevelAndZCR(t *testing.T) {
	frames, _ := analyse(sine(1000, 1, 0.1))
	f := frames[2]
	if math.Abs(f.RMSdB-(-3.0103)) > 0.01 {
		t.Errorf("full-scale sine %.3f dBFS, want -3.01", f.RMSdB)
	}
	if math.Abs(f.ZCR-2000.0/SampleRate) > 0.0015 {
		t.Errorf("ZCR %.4f, want %.4f", f.ZCR, 2000.0/SampleRate)
	}
}

func TestToneBursts(t *testing.T) {
	// 200 Hz beeps, 0.5 s on / 0.5 s off: the VAD passes them (they rise above
	// digital silence), pitch is exact, perturbation ~0, and the detector
	// abstains because the spectrum is tonal, not speech.
	x := sine(200, 0.3, 5)
	for i := range x {
		if (i/(SampleRate/2))%2 == 1 {
			x[i] = 0
		}
	}
	_, f := analyse(x)
	if f.VoicedFrames < 80 {
		t.Fatalf("only %d voiced frames in 2.5 s of tone", f.VoicedFrames)
	}
	if math.Abs(f.Pitch.Median-200) > 0.5 || f.Pitch.P10 < 199 || f.Pitch.P90 > 201 {
		t.Errorf("pitch %+v, want 200 Hz", f.Pitch)
	}
	if f.Jitter.PQ5 > 0.0005 || f.Shimmer.PQ5 > 0.001 {
		t.Errorf("tone perturbation jitter %.4f%% shimmer %.4f%%", 100*f.Jitter.PQ5, 100*f.Shimmer.PQ5)
	}
	if f.HNR.Median < 35 {
		t.Errorf("tone HNR %.1f dB, want ≥ 35", f.HNR.Median)
	}
	if as := (Detector{}).Assess(f); as.Confidence != 0 {
		t.Errorf("detector did not abstain on a tone: %+v", as)
	}
}

func TestChunkingDoesNotMatter(t *testing.T) {
	x := load48(t, ljPath2)
	_, whole := analyse(x)
	a := NewAnalyzer(timeZero)
	count := 0
	for i, step := 0, 1; i < len(x); step = step*7%1999 + 1 {
		j := min(len(x), i+step)
		count += len(a.Write(x[i:j]))
		i = j
	}
	if got := a.Features(); got != whole {
		t.Errorf("chunked features differ:\n%+v\n%+v", got, whole)
	}
	if count != len(x)/FrameSize {
		t.Errorf("%d frames, want %d", count, len(x)/FrameSize)
	}
	// int16 input gives the same frames up to quantisation.
	pcm := make([]int16, len(x))
	for i, v := range x {
		pcm[i] = int16(max(-32768, min(32767, math.Round(float64(v)*32768))))
	}
	b := NewAnalyzer(timeZero)
	b.WriteInt16(pcm)
	if g := b.Features(); g.SpeechFrames != whole.SpeechFrames || math.Abs(g.Pitch.Median-whole.Pitch.Median) > 1 {
		t.Errorf("int16 path: speech %d vs %d, pitch %.1f vs %.1f", g.SpeechFrames, whole.SpeechFrames, g.Pitch.Median, whole.Pitch.Median)
	}
}

func TestNonFiniteSamples(t *testing.T) {
	x := load48(t, ljPath2)[:2*SampleRate]
	x[1000] = float32(math.NaN())
	x[50000] = float32(math.Inf(1))
	frames, f := analyse(x)
	for _, fr := range frames {
		if math.IsNaN(fr.RMSdB) || math.IsInf(fr.RMSdB, 0) {
			t.Fatalf("frame %d level %v", fr.Index, fr.RMSdB)
		}
	}
	if frames[1].Index != 1 || frames[2].Index != 2 || len(frames) != 100 {
		t.Errorf("frame indices disturbed: %d %d, %d frames", frames[1].Index, frames[2].Index, len(frames))
	}
	if _, err := json.Marshal(f); err != nil {
		t.Errorf("features not finite: %v", err)
	}
}
