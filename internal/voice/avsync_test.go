package voice

import (
	"math"
	"testing"
	"time"
)

// mouthSeries is a smooth, irregular "mouth opening" signal: a sum of
// incommensurate sinusoids, rectified like syllables.
func mouthAt(t float64) float64 {
	v := math.Sin(2*math.Pi*3.1*t) + 0.7*math.Sin(2*math.Pi*4.7*t+1) + 0.5*math.Sin(2*math.Pi*1.3*t+2)
	return math.Max(0, v)
}

func series(start time.Time, rate float64, seconds float64, shift time.Duration, f func(float64) float64) []TimedValue {
	n := int(seconds * rate)
	out := make([]TimedValue, n)
	for i := range out {
		t := float64(i) / rate
		out[i] = TimedValue{At: start.Add(time.Duration(t * float64(time.Second))), Value: f(t - shift.Seconds())}
	}
	return out
}

func TestAVOffsetSynthetic(t *testing.T) {
	start := time.Unix(1700000000, 0)
	mouth := series(start, 15, 20, 0, mouthAt) // 15 fps video
	for _, shift := range []time.Duration{200 * time.Millisecond, -120 * time.Millisecond, 0, 470 * time.Millisecond} {
		env := series(start, 50, 20, shift, func(t float64) float64 { return -40 + 20*mouthAt(t) })
		off, corr, ok := AVOffset(mouth, env)
		if !ok || math.Abs((off-shift).Seconds()) > 0.015 || corr < 0.9 {
			t.Errorf("shift %v: got offset %v corr %.3f ok %v", shift, off, corr, ok)
		}
	}
}

func TestAVOffsetRealEnvelope(t *testing.T) {
	// Audio envelope from the analyser on real speech; the "video" is that
	// envelope sampled at 15 fps 200 ms earlier, i.e. the audio lags by 200 ms.
	frames, _ := analyse(load48(t, ljPath))
	env := Envelope(frames)
	var mouth []TimedValue
	for i := 0; i < len(env); i += 3 { // 50 Hz / 3 ≈ 16.7 fps
		mouth = append(mouth, TimedValue{At: env[i].At.Add(-200 * time.Millisecond), Value: env[i].Value})
	}
	off, corr, ok := AVOffset(mouth, env)
	if !ok || math.Abs((off-200*time.Millisecond).Seconds()) > 0.02 || corr < 0.7 {
		t.Errorf("got offset %v corr %.3f ok %v, want ≈200ms", off, corr, ok)
	}
}

func TestAVOffsetRejects(t *testing.T) {
	start := time.Unix(1700000000, 0)
	long := series(start, 50, 10, 0, mouthAt)
	if _, _, ok := AVOffset(series(start, 15, 2, 0, mouthAt), long); ok {
		t.Error("2 s overlap accepted")
	}
	flat := series(start, 15, 10, 0, func(float64) float64 { return 0.3 })
	if _, _, ok := AVOffset(flat, long); ok {
		t.Error("constant mouth accepted")
	}
	if _, _, ok := AVOffset(nil, long); ok {
		t.Error("empty mouth accepted")
	}
	// Unrelated series: ok, but a weak peak.
	other := series(start, 50, 10, 0, func(t float64) float64 { return math.Sin(2*math.Pi*0.37*t) * math.Sin(2*math.Pi*7.9*t) })
	if _, corr, ok := AVOffset(series(start, 15, 10, 0, mouthAt), other); !ok || corr > 0.5 {
		t.Errorf("unrelated series: corr %.2f ok %v", corr, ok)
	}
	// Unsorted input is sorted, not misread.
	m := series(start, 15, 20, 0, mouthAt)
	m[3], m[40] = m[40], m[3]
	env := series(start, 50, 20, 200*time.Millisecond, mouthAt)
	if off, _, ok := AVOffset(m, env); !ok || math.Abs((off-200*time.Millisecond).Seconds()) > 0.015 {
		t.Errorf("unsorted: offset %v ok %v", off, ok)
	}
}
