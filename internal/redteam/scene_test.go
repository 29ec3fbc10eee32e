package redteam

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// testdataFace loads the astronaut still, or the still REDTEAM_FACE names (a path; development:
// does the renderer draw another face's responses so that vision reads them).
func testdataFace(t testing.TB) *Face {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "faces", "astronaut.png")
	if p := os.Getenv("REDTEAM_FACE"); p != "" {
		path = p
	}
	f, err := LoadFace(path)
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

// TestSceneResponds: each drawn action moves the measure the project's vision pipeline reads
// for it (after a few frames at rest, like a tracked face), and the rest pose is a frontal face.
func TestSceneResponds(t *testing.T) {
	f := testdataFace(t)
	r := NewRenderer(f, Look{Noise: 2.5})
	last := func(st State) models.Observation {
		seq := repeat(State{}, 8)
		for i := 1; i <= 8; i++ { // turns are gradual, as a head's are
			k := float64(i) / 8
			mid := st
			mid.Yaw, mid.Pitch = st.Yaw*k, st.Pitch*k
			seq = append(seq, mid)
		}
		obs := measureSeq(t, r, append(seq, repeat(st, 4)...))
		return obs[len(obs)-1]
	}
	rest := last(State{})
	if !rest.FacePresent || rest.Coasting || !rest.PoseOK || rest.Occlusion > 0.15 {
		t.Fatalf("rest: %+v", rest)
	}
	checks := []struct {
		name string
		st   State
		ok   func(o models.Observation) bool
	}{
		{"turn left", State{Yaw: 65}, func(o models.Observation) bool { return o.PoseOK && o.Yaw-rest.Yaw > 35 }},
		{"turn right", State{Yaw: -72}, func(o models.Observation) bool { return o.PoseOK && rest.Yaw-o.Yaw > 35 }},
		{"look up", State{Pitch: 35}, func(o models.Observation) bool { return o.PoseOK && o.Pitch-rest.Pitch > 20 }},
		{"closer", State{Scale: 1.38}, func(o models.Observation) bool { return o.Scale/rest.Scale > 1.25 }},
		{"eyes closed", State{EyesClosed: 1}, func(o models.Observation) bool { return o.LandmarksOK && o.EAR < 0.6*rest.EAR }},
		{"mouth open", State{Mouth: 1}, func(o models.Observation) bool { return o.LandmarksOK && o.Mouth > rest.Mouth+0.08 }},
		{"hand", State{Hand: 1}, func(o models.Observation) bool { return o.FacePresent && (o.Coasting || o.Occlusion >= 0.4) }},
		{"face painted over the hand", State{Hand: 1, HandOnTop: true}, func(o models.Observation) bool { return !o.Coasting && o.Occlusion < 0.4 }},
		{"red light", State{Flash: [3]byte{255, 0, 0}, Gain: 0.05}, func(o models.Observation) bool { return o.FaceCr-rest.FaceCr > 3 }},
		{"blue light", State{Flash: [3]byte{0, 0, 255}, Gain: 0.05}, func(o models.Observation) bool { return o.FaceCb-rest.FaceCb > 3 }},
	}
	for _, c := range checks {
		o := last(c.st)
		t.Logf("%-26s present %v coast %v lm %v yaw %5.1f pitch %5.1f ear %.3f mouth %.3f scale %.3f occ %.2f Cb %.1f Cr %.1f",
			c.name, o.FacePresent, o.Coasting, o.LandmarksOK, o.Yaw, o.Pitch, o.EAR, o.Mouth, o.Scale, o.Occlusion, o.FaceCb, o.FaceCr)
		if !c.ok(o) {
			t.Errorf("%s: not seen by the vision pipeline", c.name)
		}
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

// TestLoadFaceFraming: a still framed closer than a webcam (obama.jpg's face fitted to the
// frame's width is 171 px, biden.jpg's 190) is shrunk to the astronaut's face width, so the
// looks' head size means the same head for every still. Before, the dim look's 1.25x head
// filled the top of the frame and a 1.38x lean-in pushed the forehead out of it: the cascades
// lost the face (coasting, scale unchanged) and an honest move_closer failed live. The
// astronaut's framing is unchanged.
func TestLoadFaceFraming(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "faces")
	for _, name := range []string{"astronaut.png", "obama.jpg", "biden.jpg"} {
		f, err := LoadFace(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if f.fw < 0.9*faceFrac*W || f.fw > 1.1*faceFrac*W {
			t.Errorf("%s: face %.0f px wide, want about %.0f", name, f.fw, faceFrac*W)
		}
		if name != "obama.jpg" {
			continue
		}
		r := NewRenderer(f, Look{Light: 0.8, Noise: 4, Size: 1.25})
		rest := measureSeq(t, r, repeat(State{}, 8))
		closer := measureSeq(t, r, append(repeat(State{}, 4), repeat(State{Scale: 1.38}, 8)...))
		a, b := rest[len(rest)-1], closer[len(closer)-1]
		if b.Coasting || !b.LandmarksOK || b.Scale < 1.25*a.Scale {
			t.Errorf("%s, dim look: lean-in read coasting %v, scale %.3f from %.3f, want ≥ 1.25x", name, b.Coasting, b.Scale, a.Scale)
		}
	}
}

// TestAlbedo: Look.Albedo darkens the skin (luma and chroma offsets by the albedo), leaves
// what is not skin alone, and the skin reflects the screen that much less; the project's
// vision still finds the darker face. Without the albedo the reflection under red moves the
// face's Cr by the same amount for every skin (finding 18).
func TestAlbedo(t *testing.T) {
	f := testdataFace(t)
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	measure := func(look Look, st State) models.Observation {
		t.Helper()
		fr := NewRenderer(f, look).Render(st)
		var o models.Observation
		for range 3 {
			if o, err = an.Measure(fr); err != nil {
				t.Fatal(err)
			}
		}
		if !o.FacePresent || !o.LandmarksOK {
			t.Fatalf("albedo %v: no face found", look.Albedo)
		}
		return o
	}
	red := State{Flash: [3]byte{255, 0, 0}, Gain: 0.05}
	light, lightRed := measure(Look{}, State{}), measure(Look{}, red)
	dark, darkRed := measure(Look{Albedo: 0.4}, State{}), measure(Look{Albedo: 0.4}, red)
	t.Logf("face Y/Cb/Cr light %.0f/%.1f/%.1f (red +%.1f Cr), albedo 0.4 %.0f/%.1f/%.1f (red +%.1f Cr)",
		light.FaceY, light.FaceCb, light.FaceCr, lightRed.FaceCr-light.FaceCr, dark.FaceY, dark.FaceCb, dark.FaceCr, darkRed.FaceCr-dark.FaceCr)
	if r := dark.FaceY / light.FaceY; r < 0.4 || r > 0.75 { // the face box holds some non-skin (eyes, brows)
		t.Errorf("face luma ratio %.2f at albedo 0.4", r)
	}
	if d := math.Abs(dark.FaceCr-128) / math.Abs(light.FaceCr-128); d > 0.75 {
		t.Errorf("Cr offset ratio %.2f at albedo 0.4: the skin's chroma did not darken", d)
	}
	lr, dr := lightRed.FaceCr-light.FaceCr, darkRed.FaceCr-dark.FaceCr
	if lr < 4 || dr/lr < 0.3 || dr/lr > 0.5 {
		t.Errorf("reflection under red: +%.1f Cr light, +%.1f at albedo 0.4 (want about 0.4 of it)", lr, dr)
	}
	fr := NewRenderer(f, Look{Albedo: 0.4}).Render(State{})
	base := NewRenderer(f, Look{}).Render(State{})
	if fr.Y[10*W+10] != base.Y[10*W+10] || fr.Y[470*W+630] != base.Y[470*W+630] {
		t.Error("the albedo changed the frame's corners (not skin)")
	}
}

// TestWeakReflectionSurvives: a reflection of under a level per pixel (gain 0.01: Cr +1.3
// under red at most, Cb under half a level) is dithered, so the face's mean chroma still moves
// by about the gain's share — rounded per pixel it read a fifteenth of it (finding 21).
func TestWeakReflectionSurvives(t *testing.T) {
	f := testdataFace(t)
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	r := NewRenderer(f, Look{})
	cr := func(st State) float64 {
		var sum float64
		for range 8 {
			o, err := an.Measure(r.Render(st))
			if err != nil || !o.FacePresent {
				t.Fatalf("no face: %v", err)
			}
			sum += o.FaceCr / 8
		}
		return sum
	}
	base := cr(State{})
	strong := cr(State{Flash: [3]byte{255, 0, 0}, Gain: 0.05}) - base
	weak := cr(State{Flash: [3]byte{255, 0, 0}, Gain: 0.01}) - base
	t.Logf("Cr under red: +%.2f at gain 0.05, +%.2f at 0.01", strong, weak)
	if weak < 0.12*strong || weak > 0.28*strong {
		t.Errorf("gain 0.01 moved Cr by %.2f, gain 0.05 by %.2f: want about a fifth", weak, strong)
	}
}
