package redteam

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureFirstFace prints, per seed and start time (the actor's clock at the stream's first
// frame), what a fresh analyser makes of a stream's first frame (a fresh renderer and encoder:
// the keyframe the live sender sends first) at albedo 0.4 and 1: how the face was found, the
// detector's confidence, the box width and the landmarks' eye distance, and every full-frame
// detection (kind, raw hits, width) when the box is under 100 px (finding 32;
// REDTEAM_MEASURE_FIRSTFACE=1, REDTEAM_SEEDS).
func TestMeasureFirstFace(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_FIRSTFACE")
	f := testdataFace(t)
	for _, albedo := range []float64{0.4, 1} {
		small, n := 0, 0
		for _, seed := range measureSeeds() {
			var b strings.Builder
			for off := 0; off < 30; off++ {
				a := NewActor(honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}), nil, seed)
				r := NewRenderer(f, Look{Noise: 2.5, Seed: seed, Albedo: albedo})
				enc, dec, an := vp8Chain(t, 800)
				at := a.t0.Add(time.Duration(off) * 100 * time.Millisecond)
				r.RenderInto(a.State(at), false)
				fr := vp8RoundTrip(t, r, enc, dec, at)
				o, err := an.Measure(fr)
				if err != nil {
					t.Fatal(err)
				}
				n++
				eye := 0.0
				if o.LandmarksOK {
					eye = faceid.EyeDistance(&o.Landmarks)
				}
				fmt.Fprintf(&b, " %d:%s/%.2f/%d/%.0f", off, o.Found, o.FaceConf, o.Face.W, eye)
				if o.FacePresent && o.Face.W < 100 {
					small++
					fmt.Fprintf(&b, "[%s]", fullDetections(t, fr))
				}
			}
			t.Logf("albedo %.1f seed %d (start/found/conf/box/eye):%s", albedo, seed, b.String())
		}
		t.Logf("albedo %.1f: %d of %d first frames with a box under 100 px", albedo, small, n)
	}
}

// fullDetections lists the full-frame detections of a frame: kind, raw hits, width.
func fullDetections(t *testing.T, fr *models.Frame) string {
	gray, err := gocv.NewMatFromBytes(fr.Height, fr.Width, gocv.MatTypeCV8U, fr.Y)
	if err != nil {
		t.Fatal(err)
	}
	defer gray.Close()
	dets, err := vision.DetectFaces(gray)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, d := range dets {
		parts = append(parts, fmt.Sprintf("k%d n%d w%d", d.Kind, d.Neighbors, d.Box.Dx()))
	}
	return strings.Join(parts, ",")
}
