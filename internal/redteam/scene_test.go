package redteam

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

func testdataFace(t testing.TB) *Face {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := LoadFace(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "faces", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// measureSeq renders states in order (15 fps) through a fresh analyser and returns the observations.
func measureSeq(t testing.TB, r *Renderer, states []State) []models.Observation {
	t.Helper()
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	t0 := time.Unix(1700000000, 0)
	var out []models.Observation
	for i, st := range states {
		f := r.Render(st)
		f.Capture = t0.Add(time.Duration(i) * time.Second / 15)
		o, err := an.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func repeat(st State, n int) []State {
	out := make([]State, n)
	for i := range out {
		out[i] = st
	}
	return out
}

func TestSceneProbe(t *testing.T) {
	f := testdataFace(t)
	r := NewRenderer(f, Look{})
	t.Logf("face: centre %.0f,%.0f width %.0f skin Y%d U%d V%d", f.cx, f.cy, f.fw, f.skinY, f.skinU, f.skinV)
	cases := []struct {
		name string
		st   State
	}{
		{"rest", State{}},
		{"yaw-65", State{Yaw: -65}}, {"yaw-80", State{Yaw: -80}}, {"yaw+75", State{Yaw: 75}},
		{"pitch+35", State{Pitch: 35}}, {"pitch-35", State{Pitch: -35}}, {"pitch-45", State{Pitch: -45}}, {"pitch+30", State{Pitch: 30}},
		{"blink.5", State{EyesClosed: 0.5}},
		{"yaw+20", State{Yaw: 20}}, {"yaw+35", State{Yaw: 35}}, {"yaw+50", State{Yaw: 50}}, {"yaw-50", State{Yaw: -50}}, {"yaw+65", State{Yaw: 65}},
		{"pitch+25", State{Pitch: 25}}, {"pitch-25", State{Pitch: -25}}, {"pitch+40", State{Pitch: 40}},
		{"closer", State{Scale: 1.35}},
		{"blink", State{EyesClosed: 1}},
		{"mouth", State{Mouth: 1}}, {"mouth.5", State{Mouth: 0.5}},
		{"hand", State{Hand: 1}},
		{"handtop", State{Hand: 1, HandOnTop: true}},
		{"red", State{Flash: [3]byte{255, 0, 0}, Gain: 0.06}},
		{"blue", State{Flash: [3]byte{0, 0, 255}, Gain: 0.06}},
	}
	for _, c := range cases {
		seq := append(repeat(State{}, 8), repeat(c.st, 6)...)
		obs := measureSeq(t, r, seq)
		o := obs[len(obs)-1]
		t.Logf("%-8s present %v coast %v lm %v pose %v yaw %5.1f pitch %5.1f ear %.3f mouth %.3f scale %.3f occ %.2f Y %.0f Cb %.1f Cr %.1f",
			c.name, o.FacePresent, o.Coasting, o.LandmarksOK, o.PoseOK, o.Yaw, o.Pitch, o.EAR, o.Mouth, o.Scale, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr)
	}
}
