package vision

import (
	"image"
	"testing"
)

// TestCoastKeepsLostFace: while the tracker coasts on a face the cascade lost in place (a hand
// over it), a hit on a part of that face (smaller, centred on it: the uncovered half) does not
// become the face, whatever its confidence, and a weak hit elsewhere (the cascade on the
// background of a dim, noisy picture) does not take the track; the whole face found again, a
// confident face elsewhere, and every hit while the face is seen are taken as before.
// The boxes and confidences are those measured on the red team's dim, noisy face through VP8
// at 400 kbit/s (docs/REDTEAM.md finding 9).
func TestCoastKeepsLostFace(t *testing.T) {
	lost := image.Rect(197, 34, 359, 197) // 162 px
	half := Detection{Box: image.Rect(286, 62, 376, 152), Conf: 0.50, Kind: ProfileLeft}
	whole := Detection{Box: image.Rect(206, 38, 362, 194), Conf: 0.85, Kind: Frontal}
	shoulder := Detection{Box: image.Rect(376, 128, 582, 334), Conf: 0.23, Kind: Frontal}
	moved := Detection{Box: image.Rect(380, 60, 540, 220), Conf: 0.80, Kind: Frontal}
	for _, c := range []struct {
		name   string
		coastN int
		dets   []Detection
		want   bool // picked and not a part of the lost face
		wantD  Detection
	}{
		{"uncovered half while coasting", 3, []Detection{half}, false, Detection{}},
		{"weak 80 % hit on the face while coasting", 3, []Detection{{Box: image.Rect(215, 50, 345, 180), Conf: 0.35}}, false, Detection{}},
		{"whole face again", 3, []Detection{half, whole}, true, whole},
		{"weak hit elsewhere while coasting", 3, []Detection{shoulder}, false, Detection{}},
		{"confident face elsewhere while coasting", 3, []Detection{moved}, true, moved},
		{"weak hit elsewhere while the face is seen", 0, []Detection{shoulder}, true, shoulder},
		{"half-size hit while the face is seen", 0, []Detection{half}, true, half},
	} {
		a := &Analyzer{have: true, box: lost, coastN: c.coastN, typConf: 0.88}
		d, ok := a.pick(c.dets)
		ok = ok && !a.partOfLostFace(d)
		if ok != c.want || (ok && d.Box != c.wantD.Box) {
			t.Errorf("%s: picked %v %v, want %v %v", c.name, ok, d.Box, c.want, c.wantD.Box)
		}
	}
}
