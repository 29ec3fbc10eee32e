package eval

import (
	"math"
	"testing"
)

func TestIdentityKey(t *testing.T) {
	for _, tc := range []struct {
		it   Item
		want string
	}{
		{Item{File: "media/g01_lp_d0.ivf", Label: Genuine}, "g01_lp_d0"},
		{Item{File: "gd_lowres_g01.ivf", Label: Genuine, Extra: map[string]string{"source": "derived:g01_lp_d0"}}, "g01_lp_d0"},
		{Item{File: "p01.ivf", Label: Photo, Extra: map[string]string{"source": "derived:g03_lp_d9"}}, "g03_lp_d9"},
		{Item{File: "f01.ivf", Label: FaceSwap, Extra: map[string]string{"source": "iperov/x.mp4"}}, ""},
		{Item{File: "g09.ivf", Label: Genuine, Extra: map[string]string{"person": ""}}, ""},
		{Item{File: "t01.ivf", Label: TalkingHead, Extra: map[string]string{"person": "g10"}}, "g10"},
	} {
		if got := IdentityKey(tc.it); got != tc.want {
			t.Errorf("%s: key %q, want %q", tc.it.File, got, tc.want)
		}
	}
}

// TestEvaluateIdentity: four templates (a, a', b, c) give one same-person
// pair and five impostor pairs; TAR and thresholds worked out by hand.
func TestEvaluateIdentity(t *testing.T) {
	ts := []IdentityTemplate{{"a", []float32{0, 0}}, {"a", []float32{0.3, 0}}, {"b", []float32{0, 1}}, {"c", []float32{2, 0}}, {"", []float32{0, 0}}}
	r := EvaluateIdentity(ts, []SwitchOutcome{{Flagged: true}, {Early: true}})
	if r.Templates != 4 || r.SamePairs != 1 || r.DiffPairs != 5 {
		t.Fatalf("%+v", r)
	}
	// Impostor distances: 1, 2, 1.044, 1.7, 2.236; at FAR 1 % of 5 pairs none may be accepted: threshold 1 (the smallest).
	if r.TAR1 != 1 || r.Threshold1 != 1 || r.TAR01 != 1 || math.Abs(float64(r.SameMax)-0.3) > 1e-6 || r.DiffMin != 1 {
		t.Errorf("%+v", r)
	}
	if r.Switches != 2 || r.Flagged != 1 || r.Early != 1 || r.Share != 0.5 {
		t.Errorf("switches %+v", r)
	}
	if tar, thr := TARAtFAR([]float64{0.2, 0.5, 0.9}, []float64{0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2}, 0.1); tar != 2.0/3 || thr != 0.6 {
		t.Errorf("TARAtFAR: %v at %v, want 2/3 at 0.6 (one impostor of ten accepted)", tar, thr)
	}
}
