package redteam

import (
	"math"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// TestScenarioSelection: "swap/MODE" selects one failure mode at its table setting and
// "swap/MODE_mild" its mildest setting; an unknown name is an error.
func TestScenarioSelection(t *testing.T) {
	all, err := Scenarios([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range all {
		if seen[s.Label()] {
			t.Errorf("two rows labelled %q", s.Label())
		}
		seen[s.Label()] = true
	}
	for _, c := range []struct {
		sel     string
		dropOut int
		variant string
	}{{"swap/dropout", 8, ""}, {"swap/dropout_mild", 2, "mild"}, {"swap/yaw_break_mild", 4, "mild"}} {
		got, err := Scenarios([]string{c.sel})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].DropOut != c.dropOut || got[0].Variant != c.variant {
			t.Errorf("%s selected %+v", c.sel, got)
		}
	}
	if got, _ := Scenarios([]string{"swap/fps_drop_mild"}); len(got) != 1 || got[0].FPSDrop != 0.2 {
		t.Errorf("swap/fps_drop_mild selected %+v", got)
	}
	if got, _ := Scenarios([]string{"swap/fps_repeat"}); len(got) != 1 || got[0].FPSRepeat != 0.2 || got[0].FPSDrop != 0 {
		t.Errorf("swap/fps_repeat selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest/darker"}); len(got) != 1 || got[0].Look.Albedo != 0.4 || got[0].Attack {
		t.Errorf("honest/darker selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest/dim"}); len(got) != 1 || got[0].Bitrate != 400 {
		t.Errorf("honest/dim selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest"}); len(got) != 3 {
		t.Errorf("honest selected %d rows, want 3", len(got))
	}
	// voiceconv selects both timings; voiceconv/synced the converter that delays its video to
	// match (the whole stream late, the voice not after the mouth), voiceconv/lagged the other.
	if got, _ := Scenarios([]string{"voiceconv"}); len(got) != 2 {
		t.Errorf("voiceconv selected %d rows, want 2", len(got))
	}
	if got, _ := Scenarios([]string{"voiceconv/synced"}); len(got) != 1 || got[0].Delay != 600*time.Millisecond ||
		got[0].Behaviour.VoiceDelay != 0 || got[0].Behaviour.Voice != "pitch" || !got[0].Attack {
		t.Errorf("voiceconv/synced selected %+v", got)
	}
	if got, _ := Scenarios([]string{"voiceconv/lagged"}); len(got) != 1 || got[0].Delay != 0 || got[0].Behaviour.VoiceDelay != 600*time.Millisecond {
		t.Errorf("voiceconv/lagged selected %+v", got)
	}
	if _, err := Scenarios([]string{"swap/nothing"}); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

// TestSwapperDropout: the dropping swap shows the operator's face for the first DropOut frames
// of the hand and the DropOut frames after it left, and the pasted face otherwise (the hold
// included), as its documentation says; a second cover starts a new failure.
func TestSwapperDropout(t *testing.T) {
	w := &swapper{sc: Scenario{Swap: "dropout", DropOut: 2}}
	hands := []float64{0, 0, 0.5, 0.8, 1, 1, 1, 1, 0.6, 0.2, 0, 0, 0, 0, 0, 0.5, 1, 1, 1, 0, 0, 0, 0}
	want := "PPOOPPPPPOOPPPPOOPPOOPP" // P: the pasted face, O: the operator's
	got := ""
	for _, h := range hands {
		st := State{Hand: h}
		if w.frame(&st) {
			got += "P"
		} else {
			got += "O"
		}
	}
	if got != want {
		t.Errorf("frames %s, want %s", got, want)
	}
}

// TestVoiceconvTiming: what the two voice-conversion rows send, as pumpVideo and pumpAudio ask
// the actor for it (Scenario.performed): the synced row's mouth and voice are aligned and both
// 0.6 s later than the honest person's; the lagged row's voice comes 0.6 s after its mouth.
// The lag is the peak of the cross-correlation of the mouth opening with the voice's 20 ms
// RMS envelope, searched over ±1 s.
func TestVoiceconvTiming(t *testing.T) {
	v, err := NewVoice()
	if err != nil {
		t.Skip(err)
	}
	scs, err := Scenarios([]string{"voiceconv", "honest"})
	if err != nil {
		t.Fatal(err)
	}
	const step = 20 * time.Millisecond
	const n = 300 // 6 s
	measure := func(sc Scenario) (mouthOnset, voiceLag time.Duration) {
		b := sc.Behaviour
		b.Latency = [2]time.Duration{500 * time.Millisecond, 500 * time.Millisecond}
		a := NewActor(b, v, 1)
		at := time.Now()
		a.Prompt([]byte(`{"t":"digits","id":"x","digits":"4 9 1 7"}`), at)
		mouth, voice := make([]float64, n), make([]float64, n)
		buf := make([]int16, 960)
		mouthOnset = -1
		for i := range n {
			capture := at.Add(time.Duration(i) * step)
			mouth[i] = a.State(sc.performed(capture)).Mouth
			if mouthOnset < 0 && mouth[i] > 0.3 {
				mouthOnset = time.Duration(i) * step
			}
			a.Audio(sc.performed(capture), buf)
			var s float64
			for _, x := range buf {
				s += float64(x) * float64(x)
			}
			voice[i] = math.Sqrt(s / float64(len(buf)))
		}
		best, bestC := 0, math.Inf(-1)
		for k := -50; k <= 50; k++ { // voice[i+k] against mouth[i]: k > 0, the voice after the mouth
			var x, y []float64
			for i := range n {
				if j := i + k; j >= 0 && j < n {
					x, y = append(x, mouth[i]), append(y, voice[j])
				}
			}
			if c, ok := dsp.Pearson(x, y); ok && c > bestC {
				best, bestC = k, c
			}
		}
		return mouthOnset, time.Duration(best) * step
	}
	var honestOnset time.Duration
	got := map[string][2]time.Duration{}
	for _, sc := range scs {
		on, lag := measure(sc)
		t.Logf("%s: mouth opens %v after the prompt, voice %v after the mouth", sc.Label(), on, lag)
		if sc.Name == "honest" && sc.Variant == "" {
			honestOnset = on
		}
		got[sc.Variant] = [2]time.Duration{on, lag}
	}
	within := func(d, want time.Duration) bool { return d >= want-2*step && d <= want+2*step }
	if s := got["synced"]; !within(s[1], 0) || honestOnset <= 0 || !within(s[0]-honestOnset, 600*time.Millisecond) {
		t.Errorf("synced: mouth onset %v (honest %v), voice %v after the mouth; want the whole stream 0.6 s late, voice with the mouth", s[0], honestOnset, s[1])
	}
	if l := got["lagged"]; !within(l[1], 600*time.Millisecond) || !within(l[0], honestOnset) {
		t.Errorf("lagged: mouth onset %v (honest %v), voice %v after the mouth; want the mouth on time, the voice 0.6 s after it", l[0], honestOnset, l[1])
	}
}
