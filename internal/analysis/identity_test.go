package analysis

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

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
	id := IdentityConfig{Model: facetest.Model(t), Session: faceid.SessionConfig{Every: time.Second}}
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

// TestChallengeIdentityMetrics: a challenge issued at 2.5 s on a recording
// that switches person at 3 s stores its identity check with its result:
// before the issue the face matches the session's identity, during the
// response window it does not (the switch), after it the new identity
// holds; the other person's faces in the response fail the challenge.
func TestChallengeIdentityMetrics(t *testing.T) {
	vcfg, newAnalyzer := visionFactory(t)
	cfg := Config{AnalysisFPS: 4, NewAnalyzer: newAnalyzer, Logger: quietLogger(), Now: func() time.Time { return FileEpoch },
		Identity: IdentityConfig{Model: facetest.Model(t), Session: faceid.SessionConfig{Every: time.Second}}}
	s := newSession(cfg.withDefaults(), 0, nil, false)
	src, err := OpenVideo(stillsIVF(t, stillPart{"astronaut.png", 3}, stillPart{"obama.jpg", 3}), FileEpoch)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	an, err := vision.NewAnalyzer(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	for {
		f, err := src.Next()
		if err != nil {
			break
		}
		s.frameDecoded(f)
		if s.due(f.Capture, false) {
			if err := observeFile(s, an, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := func(sec float64) time.Time { return FileEpoch.Add(time.Duration(sec * float64(time.Second))) }
	r := challenge.Result{ID: "c1", Kind: challenge.KindTurnHead, Issued: at(2.5), Deadline: at(4.5), Metrics: map[string]float64{"x": 1},
		Outcome: challenge.OutcomePassed}
	s.identity.challengeMetrics(&r, at(6))
	m := r.Metrics
	t.Logf("metrics %v", m)
	if m["x"] != 1 || m[MetricIdentitySamples] < 4 {
		t.Fatalf("metrics %v", m)
	}
	if b, ok := m[MetricIdentityBefore]; !ok || b > faceid.DefaultChangeDistance {
		t.Errorf("before the issue: %v %v, want the same person", b, ok)
	}
	if d := m[MetricIdentityDuring]; d <= faceid.DefaultChangeDistance {
		t.Errorf("during the response (the switch): %v, want another person", d)
	}
	if a, ok := m[MetricIdentityAfter]; !ok || a > faceid.DefaultChangeDistance {
		t.Errorf("after the deadline: %v %v, want the (new) identity holding", a, ok)
	}
	// Another person's face in the response fails the challenge (challenge.CheckIdentity).
	if r.Outcome != challenge.OutcomeFailed || r.Reason != "a different face appeared while turning" {
		t.Errorf("identity check: %s %q, want failed for the different face", r.Outcome, r.Reason)
	}
}
