package analysis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

var (
	faceModelOnce sync.Once
	faceModel     *faceid.Model
	faceModelErr  error
)

// testFaceModel loads the converted face model once (scripts/setup.sh
// installs it; its absence is a failure, not a skip).
func testFaceModel(t testing.TB) *faceid.Model {
	t.Helper()
	faceModelOnce.Do(func() {
		path := os.Getenv("LIVECHECK_FACE_MODEL")
		if path == "" {
			path = faceid.DefaultModelPath()
		}
		faceModel, faceModelErr = faceid.LoadModel(path, 2)
	})
	if faceModelErr != nil {
		t.Fatalf("%v — run `make setup`", faceModelErr)
	}
	return faceModel
}

// stillPart is one still of a generated recording and how long it shows.
type stillPart struct {
	still string
	secs  float64
}

// stillsIVF writes a 640x480 15 fps VP8 recording of public-domain stills
// (testdata/faces) shown one after the other, each fitted into the frame
// with a slow sway; two different people joined make a person switch.
func stillsIVF(t testing.TB, parts ...stillPart) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not installed (scripts/setup.sh installs it)")
	}
	path := filepath.Join(t.TempDir(), "stills.ivf")
	sway := "fps=15,scale=680:500:force_original_aspect_ratio=decrease,pad=680:500:(ow-iw)/2:(oh-ih)/2," +
		"crop=640:480:x='20+20*sin(n/10)':y='10+8*cos(n/13)',format=yuv420p"
	args := []string{"-loglevel", "error", "-y"}
	fc, cat := "", ""
	for i, p := range parts {
		args = append(args, "-loop", "1", "-t", ftoa(p.secs), "-i", filepath.Join(visiontest.FacesDir, p.still))
		fc += fmt.Sprintf("[%d:v]%s[p%d];", i, sway, i)
		cat += fmt.Sprintf("[p%d]", i)
	}
	fc += fmt.Sprintf("%sconcat=n=%d:v=1[v]", cat, len(parts))
	args = append(args, "-filter_complex", fc, "-map", "[v]", "-c:v", "libvpx", "-b:v", "600k", "-deadline", "realtime", "-cpu-used", "8", path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

func ftoa(v float64) string { return time.Duration(v * float64(time.Second)).String() }

// TestIdentitySwitchFlaggedAtTheSwitch: a recording that switches from one
// person to another 3 s in, analysed through the one analysis path
// (AnalyzeFile with the identity stage), gives an identity_change signal
// at the switch with both evidence faces; the recording of one person
// gives none.
func TestIdentitySwitchFlaggedAtTheSwitch(t *testing.T) {
	vcfg, _ := visionFactory(t)
	id := IdentityConfig{Model: testFaceModel(t)}
	res, err := AnalyzeFile(context.Background(), FileOptions{Video: stillsIVF(t, stillPart{"astronaut.png", 3}, stillPart{"obama.jpg", 3}), Vision: vcfg, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Result
	rep := r.Identity
	if rep == nil || rep.Embedded < 5 {
		t.Fatalf("identity report %+v", rep)
	}
	switchAt := FileEpoch.Add(3 * time.Second)
	if len(rep.Changes) != 1 {
		t.Fatalf("%d identity changes, want 1 (embedded %d, rejected %v)", len(rep.Changes), rep.Embedded, rep.Rejected)
	}
	c := rep.Changes[0]
	if c.Before.At.After(switchAt) || c.After.At.Before(switchAt) || c.After.At.Sub(switchAt) > 1500*time.Millisecond {
		t.Errorf("change: last face before at %v, first after at %v; the switch is at %v", c.Before.At, c.After.At, switchAt)
	}
	if len(c.Before.JPEG) == 0 || len(c.After.JPEG) == 0 {
		t.Errorf("evidence faces of %d and %d bytes", len(c.Before.JPEG), len(c.After.JPEG))
	}
	var found bool
	for _, sg := range r.StageSignals {
		if sg.Kind == faceid.KindChange {
			found = true
			if sg.Score < 0.8 || !sg.At.Equal(c.After.At) {
				t.Errorf("identity_change signal %+v", sg)
			}
			t.Log(sg.Reason)
		}
	}
	if !found {
		t.Fatalf("no identity_change signal in %v", r.StageSignals)
	}

	// One person throughout: no change.
	one, err := AnalyzeFile(context.Background(), FileOptions{Video: stillsIVF(t, stillPart{"astronaut.png", 4}), Vision: vcfg, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	if rep := one.Result.Identity; rep == nil || len(rep.Changes) != 0 || rep.Embedded < 3 {
		t.Fatalf("one person: %+v", rep)
	}
	for _, sg := range one.Result.StageSignals {
		if sg.Kind == faceid.KindChange && sg.Score != 0 {
			t.Errorf("one person: %+v", sg)
		}
	}
}
