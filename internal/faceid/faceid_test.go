package faceid

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

// jpegRoundTrip re-encodes a picture at a low JPEG quality.
func jpegRoundTrip(q int) func(m *gocv.Mat) {
	return func(m *gocv.Mat) {
		buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, *m, []int{gocv.IMWriteJpegQuality, q})
		if err != nil {
			panic(err)
		}
		defer buf.Close()
		out, err := gocv.IMDecode(buf.GetBytes(), gocv.IMReadColor)
		if err != nil {
			panic(err)
		}
		m.Close()
		*m = out
	}
}

// lighting scales and offsets every pixel (darker, lower contrast).
func lighting(gain, offset float64) func(m *gocv.Mat) {
	return func(m *gocv.Mat) {
		out := gocv.NewMat()
		m.ConvertToWithParams(&out, gocv.MatTypeCV8UC3, float32(gain), float32(offset))
		m.Close()
		*m = out
	}
}

// TestSameFaceUnderChanges: each still shifted, scaled, JPEG-compressed and
// relit stays within the tracker's same-person distance of itself, well
// below the reuse threshold.
func TestSameFaceUnderChanges(t *testing.T) {
	edits := []struct {
		name string
		fn   func(m *gocv.Mat)
	}{
		{"shifted", shiftScale(60, 30, 1)},
		{"smaller", shiftScale(-20, 10, 0.75)},
		{"larger", shiftScale(0, 20, 1.25)},
		{"jpeg q20", jpegRoundTrip(20)},
		{"dim light", lighting(0.55, 10)},
		{"bright light", lighting(1.3, 30)},
	}
	for _, still := range visiontest.Stills {
		base := embedFrame(t, stillFrame(t, still, 640, 480, nil))
		for _, e := range edits {
			d := Distance(base, embedFrame(t, stillFrame(t, still, 640, 480, e.fn)))
			t.Logf("%s %s: distance %.3f", still, e.name, d)
			if d > ReuseDistance {
				t.Errorf("%s %s: distance %.3f to the unedited still, want ≤ %.2f (same person)", still, e.name, d, ReuseDistance)
			}
		}
	}
}

// TestDifferentFacesDiffer: the three people are farther apart than the
// reference-mismatch distance.
func TestDifferentFacesDiffer(t *testing.T) {
	var ds []Descriptor
	for _, still := range visiontest.Stills {
		ds = append(ds, embedFrame(t, stillFrame(t, still, 640, 480, nil)))
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			d := Distance(ds[i], ds[j])
			t.Logf("%s vs %s: %.3f", visiontest.Stills[i], visiontest.Stills[j], d)
			if d < ReferenceMismatch {
				t.Errorf("%s vs %s: distance %.3f, want ≥ %.2f (different people)", visiontest.Stills[i], visiontest.Stills[j], d, ReferenceMismatch)
			}
		}
	}
}

// clipFrames makes a clip at 4 fps: for each (still, seconds) part, the
// still moving slowly around the frame (a few pixels per frame, slight
// zoom), JPEG-coded at quality 60 like a webcam stream.
func clipFrames(t *testing.T, parts []struct {
	still string
	secs  float64
}) []*models.Frame {
	t.Helper()
	var out []*models.Frame
	at := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	i := 0
	for _, p := range parts {
		for k := 0; k < int(p.secs*4); k++ {
			ph := float64(i) / 4
			f := stillFrame(t, p.still, 640, 480, func(m *gocv.Mat) {
				shiftScale(25*math.Sin(ph), 12*math.Cos(ph*0.7), 1+0.05*math.Sin(ph*0.5))(m)
				jpegRoundTrip(60)(m)
			})
			f.Capture = at.Add(time.Duration(i) * time.Second / 4)
			out = append(out, f)
			i++
		}
	}
	return out
}

// runSession analyses a clip as the live room does (one vision.Analyzer,
// every frame) with an identity Session at its default sampling (one face
// every 2 s).
func runSession(t *testing.T, frames []*models.Frame) *Session {
	t.Helper()
	an, err := vision.NewAnalyzer(vision.Config{Landmarker: testLandmarker(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	s := NewSession(testModel(t), SessionConfig{})
	for _, f := range frames {
		o, err := an.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		o.At = f.Capture
		if s.Due(o.At, false) {
			if _, _, err := s.Observe(f, &o); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

// TestSwitchFlaggedAtTheSwitch: a clip that shows one person for 5 s and
// another for 5 s gives exactly one identity change, between the last
// sample of the first and the first samples of the second, with both
// evidence images; a clip of one person gives none.
func TestSwitchFlaggedAtTheSwitch(t *testing.T) {
	type part = struct {
		still string
		secs  float64
	}
	frames := clipFrames(t, []part{{"astronaut.png", 5}, {"obama.jpg", 5}})
	switchAt := frames[0].Capture.Add(5 * time.Second)
	s := runSession(t, frames)
	ch := s.Changes()
	if len(ch) != 1 {
		t.Fatalf("%d identity changes, want 1 (embedded %d, rejected %v)", len(ch), s.Embedded(), s.Rejected())
	}
	c := ch[0]
	if c.Before.At.After(switchAt) || c.After.At.Before(switchAt) || c.After.At.Sub(switchAt) > 2*time.Second { // within one sampling interval
		t.Errorf("change before %v after %v, switch at %v", c.Before.At, c.After.At, switchAt)
	}
	if len(c.Before.JPEG) == 0 || len(c.After.JPEG) == 0 || c.Returning != -1 {
		t.Errorf("evidence images %d/%d bytes, returning %d", len(c.Before.JPEG), len(c.After.JPEG), c.Returning)
	}
	sg, ok := ChangeSignal(s.tr, frames[0].Capture)
	if !ok || sg.Kind != KindChange || sg.Score < 0.8 || !sg.At.Equal(c.After.At) {
		t.Errorf("signal %+v", sg)
	}
	t.Log(sg.Reason)

	same := runSession(t, clipFrames(t, []part{{"astronaut.png", 8}}))
	if n := len(same.Changes()); n != 0 || same.Embedded() < 4 {
		t.Errorf("one person: %d changes, %d samples", n, same.Embedded())
	}
	if sg, ok := same.Signal(frames[0].Capture); !ok || sg.Score != 0 {
		t.Errorf("one person: signal %+v", sg)
	}
}

// TestReferencePhoto: a reference photo of the person on camera matches;
// one of another person does not.
func TestReferencePhoto(t *testing.T) {
	type part = struct {
		still string
		secs  float64
	}
	s := runSession(t, clipFrames(t, []part{{"astronaut.png", 4}}))
	live, ok := s.Main()
	if !ok {
		t.Fatal("no template")
	}
	vcfg := vision.Config{Landmarker: testLandmarker(t)}
	for _, tc := range []struct {
		file  string
		match bool
	}{{"astronaut.png", true}, {"obama.jpg", false}, {"biden.jpg", false}} {
		data, err := os.ReadFile(filepath.Join(visiontest.FacesDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecodePhoto(data)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := testModel(t).DescribePhoto(p, vcfg)
		if err != nil {
			t.Fatal(err)
		}
		sg := ReferenceSignal(live.Template, ref.D)
		t.Logf("%s: %s", tc.file, sg.Reason)
		if sg.Kind != KindReference || (tc.match && (sg.Score != 0 || sg.Value > ReferenceMatch)) || (!tc.match && (sg.Score < 0.7 || sg.Value < ReferenceMismatch)) {
			t.Errorf("%s: signal %+v, want match=%v", tc.file, sg, tc.match)
		}
	}
	// A photo without a face is refused with ErrNoFace.
	blank := image.NewRGBA(image.Rect(0, 0, 320, 240))
	if _, err := testModel(t).DescribePhoto(&Photo{Image: blank}, vcfg); err == nil {
		t.Error("a blank photo gave a face")
	}
}

// BenchmarkEmbed is the cost of one face: alignment, blur measure, the
// recogniser (most of it) and the evidence JPEG. Besides wall time it
// reports the process's CPU time per face (cpu-ms/op), which a loaded
// machine inflates much less than wall time.
func BenchmarkEmbed(b *testing.B) {
	f := stillFrame(b, "astronaut.png", 640, 480, nil)
	o := measure(b, f)
	m := testModel(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, why, err := m.Describe(f, &o, Gate{}); err != nil || why != "" {
			b.Fatal(err, why)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
