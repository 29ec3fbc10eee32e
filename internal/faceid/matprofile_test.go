//go:build matprofile

package faceid

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

// Run with: go test -tags matprofile -run MatProfile ./internal/faceid/
// gocv then records every Mat created and not yet closed: every Mat of
// alignment, embedding and the reference-photo path must be closed.
func TestMatProfileFaceID(t *testing.T) {
	m := testModel(t)
	f := stillFrame(t, "astronaut.png", 640, 480, nil)
	big := stillFrame(t, "obama.jpg", 1600, 1200, nil) // alignment shrinks the region first
	o, ob := measure(t, f), measure(t, big)
	raw, err := os.ReadFile(filepath.Join(visiontest.FacesDir, "biden.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePhoto(raw)
	if err != nil {
		t.Fatal(err)
	}
	before := gocv.MatProfile.Count()
	for i := 0; i < 3; i++ {
		if _, why, err := m.Describe(f, &o, Gate{}); err != nil || why != "" {
			t.Fatal(err, why)
		}
		if _, _, err := m.Describe(big, &ob, Gate{}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.DescribePhoto(p, vision.Config{Landmarker: testLandmarker(t)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := gocv.MatProfile.Count(); n != before {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats left open:\n%s", n-before, b.String())
	}
}
