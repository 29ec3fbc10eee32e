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
		{"yaw-65", State{Yaw: -65}}, {"yaw-72", State{Yaw: -72}}, {"yaw+65", State{Yaw: 65}},
		{"pitch-50", State{Pitch: -50}}, {"pitch-60", State{Pitch: -60}}, {"pitch-40", State{Pitch: -40}},
		{"closer", State{Scale: 1.38}}, {"blink", State{EyesClosed: 1}}, {"mouth", State{Mouth: 1}},
		{"hand", State{Hand: 1}}, {"handtop", State{Hand: 1, HandOnTop: true}},
		{"red", State{Flash: [3]byte{255, 0, 0}, Gain: 0.05}},
	}
	for _, c := range cases {
		seq := append(repeat(State{}, 8), repeat(c.st, 6)...)
		obs := measureSeq(t, r, seq)
		o := obs[len(obs)-1]
		t.Logf("%-8s present %v coast %v lm %v pose %v yaw %5.1f pitch %5.1f ear %.3f mouth %.3f scale %.3f occ %.2f Y %.0f Cb %.1f Cr %.1f",
			c.name, o.FacePresent, o.Coasting, o.LandmarksOK, o.PoseOK, o.Yaw, o.Pitch, o.EAR, o.Mouth, o.Scale, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr)
	}
}

func BenchmarkRender(b *testing.B) {
	f := testdataFace(b)
	r := NewRenderer(f, Look{Noise: 2.5})
	for _, st := range []State{{Yaw: 2, Pitch: 1}, {Yaw: 2, Hand: 1}, {Scale: 1.3, Yaw: 40}} {
		b.Run("", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r.RenderInto(st, false)
			}
		})
	}
}
