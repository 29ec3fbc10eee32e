package voice

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// gappedSpeech is read speech (both testdata recordings) cut by quiet
// stretches of 1–40 frames at -40 dB, which the VAD calls non-speech.
func gappedSpeech(t testing.TB) []float32 {
	rng := rand.New(rand.NewPCG(7, 17))
	var x []float32
	for _, p := range []string{ljPath, ljPath2} {
		s := load48(t, p)
		for len(s) > 0 {
			n := min(len(s), FrameSize*(5+rng.IntN(60))+rng.IntN(FrameSize))
			x = append(x, s[:n]...)
			s = s[n:]
			q := FrameSize * (1 + rng.IntN(40))
			for i := 0; i < q && i < len(s); i++ {
				x = append(x, 0.01*s[i])
			}
			s = s[min(q, len(s)):]
		}
	}
	return x
}

// TestDeferredDecimation: decimating only the frames the pitch and cycle
// analysis can read (speech frames and the frame before each) gives the same
// frames and the same session features, to the bit, as decimating every
// frame. The input is read speech (both testdata recordings) cut by quiet
// stretches of 1–40 frames at -40 dB (which the VAD calls non-speech), fed
// in pieces of random length so frames straddle writes.
func TestDeferredDecimation(t *testing.T) {
	x := gappedSpeech(t)
	run := func(eager bool) ([]Frame, Features) {
		prev := eagerDecimate
		eagerDecimate = eager
		defer func() { eagerDecimate = prev }()
		a := NewAnalyzer(timeZero)
		var frames []Frame
		r := rand.New(rand.NewPCG(1, 2))
		for rest := x; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(3*FrameSize))
			frames = append(frames, a.Write(rest[:n])...)
			rest = rest[n:]
		}
		return frames, a.Features()
	}
	wantF, want := run(true)
	gotF, got := run(false)
	if len(gotF) != len(wantF) {
		t.Fatalf("%d frames, %d decimating every frame", len(gotF), len(wantF))
	}
	gaps, voicedAfterGap := 0, 0
	for i := range wantF {
		if gotF[i] != wantF[i] {
			t.Fatalf("frame %d: %+v, decimating every frame %+v", i, gotF[i], wantF[i])
		}
		if i > 0 && !wantF[i-1].Speech && wantF[i].Speech {
			gaps++
			if wantF[i].Voiced {
				voicedAfterGap++
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("features differ:\n%+v\ndecimating every frame:\n%+v", got, want)
	}
	t.Logf("%d frames, %d speech, %d voiced; %d speech onsets after a non-speech frame, %d of them voiced; jitter cycles %d",
		len(wantF), want.SpeechFrames, want.VoicedFrames, gaps, voicedAfterGap, want.Jitter.Cycles)
	// The comparison must have covered the deferred path.
	if gaps < 20 || voicedAfterGap < 5 || want.VoicedFrames < 100 || want.Jitter.Cycles < 100 {
		t.Fatalf("too few speech onsets (%d, %d voiced) or voiced frames (%d) to compare", gaps, voicedAfterGap, want.VoicedFrames)
	}
}

// BenchmarkFeatures20msGaps is BenchmarkFeatures20ms on gappedSpeech (about a
// third of the frames not speech), decimating every frame (eager) and only
// those the analysis reads (deferred).
func BenchmarkFeatures20msGaps(b *testing.B) {
	x := gappedSpeech(b)
	eagerAndDeferred(b, func(b *testing.B) { benchFrames(b, x) })
}

// eagerAndDeferred runs bench as the sub-benchmarks "eager" (eagerDecimate: every frame
// decimated) and then "deferred" (only the frames the analysis reads), restoring the setting.
func eagerAndDeferred(b *testing.B, bench func(b *testing.B)) {
	for _, eager := range []bool{true, false} {
		name := "deferred"
		if eager {
			name = "eager"
		}
		b.Run(name, func(b *testing.B) {
			prev := eagerDecimate
			eagerDecimate = eager
			defer func() { eagerDecimate = prev }()
			bench(b)
		})
	}
}
