package loadgen_test

import (
	"testing"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/loadgen"
)

// TestLayeredMedia: --layers 3 encodes the default video with libvpx L1T3; the frames' layers,
// read from their headers, follow the pattern TL0, TL2, TL1, TL2 from each keyframe (a keyframe
// every 75 frames), and exactly the TL2 frames are non-reference.
func TestLayeredMedia(t *testing.T) {
	m, err := loadgen.LoadMediaLayers("", "", apptest.Testdata("faces/astronaut.png"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Layers != 3 || len(m.Video) != 150 || len(m.Keyframes) != 2 {
		t.Fatalf("layers %d, %d frames, keyframes %v", m.Layers, len(m.Video), m.Keyframes)
	}
	want := []uint8{0, 2, 1, 2}
	counts := map[uint8]int{}
	for i, f := range m.Video {
		pos := i % 75 // the pattern restarts at each keyframe
		if f.TID != want[pos%4] || f.NonRef != (f.TID == 2) {
			t.Fatalf("frame %d: TID %d non-reference %v, want TID %d", i, f.TID, f.NonRef, want[pos%4])
		}
		counts[f.TID]++
	}
	t.Logf("frames per layer: %v", counts)
}
