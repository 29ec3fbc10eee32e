package redteam

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/models"
)

// TestDarkerFirstFace is finding 32's regression test: the darker skin (albedo 0.4, seed 1) whose
// stream starts at the actor's 1.1 s, where the first frame (the sender's keyframe, VP8 through
// libvpx) has no frontal hit and one profile hit of 3 raw hits on a 78 px part of the face
// (TestMeasureFirstFace). Before the fix the track started on that box (landmarks 24 px
// between the eyes instead of 54) and the identity stage enrolled its face, 0.73 from the
// person. Analysed at the live 5.5 fps outside challenges, through the real vision and face
// models, for 9 s: the first frame's face, if any, must be the whole face and its descriptor
// within the change distance of the later faces'; no face the identity stage embeds may be
// smaller than 40 px between the eyes; no identity change.
func TestDarkerFirstFace(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and measures a 9 s stream")
	}
	f := testdataFace(t)
	m := facetest.Model(t)
	const seed = 1
	a := NewActor(honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}), nil, seed)
	r := NewRenderer(f, Look{Noise: 2.5, Seed: seed, Albedo: 0.4})
	enc, dec, an := vp8Chain(t, 800)
	rec := &recEmbedder{m: m}
	ids := faceid.NewSession(rec, faceid.SessionConfig{Every: 2 * time.Second})
	start := a.t0.Add(1100 * time.Millisecond)
	p := &pacer{fps: 5.5}
	first := true
	var firstFrame *models.Frame
	var firstObs models.Observation
	for at := start; at.Before(start.Add(9 * time.Second)); at = at.Add(time.Second / 15) {
		r.RenderInto(a.State(at), false)
		fr := vp8RoundTrip(t, r, enc, dec, at)
		if !p.due(at) {
			continue
		}
		o, err := an.Measure(fr)
		if err != nil {
			t.Fatal(err)
		}
		if first {
			firstFrame, firstObs = fr, o
			t.Logf("first frame (keyframe %v, q %d): face %v found %q conf %.2f box %d", fr.Keyframe, fr.Quant-1, o.FacePresent, o.Found, o.FaceConf, o.Face.W)
			first = false
		}
		if ids.Due(at, false) {
			if _, _, err := ids.Observe(fr, &o); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(rec.out) < 4 {
		t.Fatalf("%d faces embedded in 9 s, want at least 4 (rejected %v)", len(rec.out), ids.Rejected())
	}
	later := meanDesc(rec.out[1:])
	for i, s := range rec.out {
		t.Logf("face %d at %.2fs: eye distance %.0f px, %s, distance to the later faces' mean %.3f", i, s.At.Sub(start).Seconds(), s.EyeDistance, rec.meta[i], faceid.Distance(s.D, later))
		if s.EyeDistance < 40 {
			t.Errorf("face %d at %.2fs embedded with its eyes %.0f px apart: the track is on a part of the face", i, s.At.Sub(start).Seconds(), s.EyeDistance)
		}
	}
	// The stream's first frame: a face there must be the whole face, and its descriptor (taken
	// with the gate's size limit lowered to 20 px: live, such faces passed the gate at 24–25 px
	// between the eyes, the limit) within the change distance of the later faces.
	if firstObs.FacePresent {
		if firstObs.Face.W < 100 {
			t.Errorf("the first frame's face box is %d px wide (the face is 120–135): the track starts on a part of the face", firstObs.Face.W)
		}
		if smp, why, err := m.Describe(firstFrame, &firstObs, faceid.Gate{MinEyeDistance: 20}); err != nil {
			t.Fatal(err)
		} else if why == "" {
			d := faceid.Distance(smp.D, later)
			t.Logf("the first frame's face: eye distance %.0f px, distance to the later faces' mean %.3f", smp.EyeDistance, d)
			if d > faceid.DefaultChangeDistance {
				t.Errorf("the first frame's face is %.3f from the later ones (change distance %.2f)", d, faceid.DefaultChangeDistance)
			}
		}
	}
	if d := faceid.Distance(rec.out[0].D, later); d > faceid.DefaultChangeDistance {
		t.Errorf("the first face is %.3f from the later ones (change distance %.2f)", d, faceid.DefaultChangeDistance)
	}
	if c := ids.Changes(); len(c) > 0 {
		t.Errorf("%d identity changes, the first at %.2fs (distance %.2f)", len(c), c[0].After.At.Sub(start).Seconds(), c[0].Distance)
	}
}
