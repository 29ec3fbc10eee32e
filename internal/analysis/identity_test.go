package analysis

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
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
	args = append(args, "-filter_complex", fc, "-map", "[v]", "-c:v", "libvpx", "-b:v", "600k", "-deadline", "good", "-cpu-used", "5", "-threads", "1", path)
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

// turnEmbedder is an Embedder whose face at time at is face(at), turned as vision measured;
// it applies the gate's yaw limit as the model's gate does.
type turnEmbedder struct {
	face func(at time.Time) faceid.Descriptor
}

func (e turnEmbedder) Describe(_ *models.Frame, o *models.Observation, g faceid.Gate) (faceid.Sample, string, error) {
	if !o.LandmarksOK || math.Abs(o.Yaw) > g.MaxYaw {
		return faceid.Sample{}, faceid.RejectPose, nil
	}
	return faceid.Sample{At: o.At, D: e.face(o.At), Yaw: o.Yaw}, "", nil
}

// TestChallengeSamePose: over the session's live path (challenge runner, identity stage
// inline), a turn_head whose head turns to 45° and back passes with the same person
// throughout, and fails for the different face when, for the first 8 frames beyond 25°, the
// face is another person's and then the first one's held at 25° (a swap breaking at a deep
// turn): the operator's faces are beyond the identity gate's 35° but are compared with the
// swap's at the same pose. The metrics of the same-pose check are stored with the result.
func TestChallengeSamePose(t *testing.T) {
	a, b := unitDescriptor(1), unitDescriptor(2)
	for _, c := range []struct {
		name string
		swap bool
		want challenge.Outcome
		far  bool
	}{{"honest", false, challenge.OutcomePassed, false}, {"yaw break", true, challenge.OutcomeFailed, true}} {
		t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
		clock := t0
		now := func() time.Time { return clock }
		issued := t0.Add(3 * time.Second)
		sign := 0.0                          // the turn's direction, known once issued
		head := func(at time.Time) float64 { // the head's yaw: out to 45° at 60°/s from 0.6 s, held 1 s, back
			s := at.Sub(issued).Seconds() - 0.6
			switch {
			case s < 0:
				return 1
			case s < 0.75:
				return 1 + 60*s
			case s < 1.75:
				return 46
			case s < 2.5:
				return 46 - 60*(s-1.75)
			}
			return 1
		}
		frame0 := func(at time.Time) int { // frames beyond 25°, counted from the first
			s := at.Sub(issued).Seconds() - 0.6
			return int((s - 0.4) * 15)
		}
		broken := func(at time.Time) bool { f := frame0(at); return c.swap && head(at) > 25 && f >= 0 && f < 8 }
		shown := func(at time.Time) float64 { // the yaw vision measures
			if c.swap && head(at) > 25 && !broken(at) {
				return sign * 25 // the swap, held at 25°
			}
			return sign * head(at)
		}
		emb := turnEmbedder{face: func(at time.Time) faceid.Descriptor {
			if c.swap && !broken(at) {
				return b // the swap's face
			}
			return a // the operator's own (or the honest person's)
		}}
		e := New(Config{Logger: quietLogger(), Now: now, Challenges: ChallengeConfig{Enabled: true,
			Plan: challenge.PlanConfig{Count: 1, Kinds: []challenge.Kind{challenge.KindTurnHead, challenge.KindBlink}}},
			Identity: IdentityConfig{Model: emb, Workers: -1}})
		box := models.Rect{X: 250, Y: 120, W: 120, H: 120}
		an := scriptedAnalyzer{obs: func(at time.Time) models.Observation {
			return models.Observation{FacePresent: true, Face: box, FaceConf: 0.9, LandmarksOK: true, PoseOK: true,
				Yaw: shown(at), Occlusion: 0.03, FaceY: 160, FaceCb: 112, FaceCr: 145, EAR: 0.33, Scale: 0.19}
		}}
		frame := func(s *Session, at time.Time) {
			if err := s.observe(an, &models.Frame{Width: 2, Height: 2, Y: make([]byte, 4), U: make([]byte, 1), V: make([]byte, 1), Capture: at}); err != nil {
				t.Fatal(err)
			}
		}
		step := time.Second / 15
		s, st, at := sessionAt(t, e, challenge.KindTurnHead, 31, t0, issued, step, func(at time.Time) { clock = at }, frame)
		sign = -1
		if strings.Contains(st.Running.Text, challenge.DirLeft) {
			sign = 1
		}
		s.Shown(st.Running.ID, issued.Add(50*time.Millisecond))
		for end := issued.Add(10 * time.Second); at.Before(end); at = at.Add(step) {
			clock = at
			frame(s, at)
		}
		clock = at.Add(3 * time.Second)
		res := s.ch.runner.Poll(clock)
		if len(res) != 1 {
			t.Fatalf("%s: %d results", c.name, len(res))
		}
		r := res[0]
		s.identity.challengeMetrics(&r, clock) // as challenges.finish
		s.End(models.EndCompleted, clock)
		m := r.Metrics
		t.Logf("%s: %s %q, same pose: %v faces, %v pairs, max %v, %v far", c.name, r.Outcome, r.Reason,
			m[challenge.MetricPoseFaces], m[challenge.MetricPosePairs], m[challenge.MetricPoseMax], m[challenge.MetricPoseFar])
		if r.Outcome != c.want || (c.far && r.Reason != "a different face appeared while turning") {
			t.Errorf("%s: %s %q, want %s", c.name, r.Outcome, r.Reason, c.want)
		}
		if m[challenge.MetricPoseFaces] < 15 || m[challenge.MetricPosePairs] == 0 {
			t.Errorf("%s: %v turned faces, %v pairs: want every frame of the turn compared", c.name, m[challenge.MetricPoseFaces], m[challenge.MetricPosePairs])
		}
		if (m[challenge.MetricPoseFar] >= challenge.IdentityMinFaces) != c.far {
			t.Errorf("%s: %v far pairs", c.name, m[challenge.MetricPoseFar])
		}
		if m[MetricIdentityDuring] > 0.1 && !c.swap {
			t.Errorf("honest: identity during %v", m[MetricIdentityDuring])
		}
	}
}

// unitDescriptor is a random descriptor of one synthetic person (two of them about 0.96 apart).
func unitDescriptor(seed uint64) faceid.Descriptor {
	r := rand.New(rand.NewPCG(seed, 7))
	var d faceid.Descriptor
	for i := range d {
		d[i] = float32(r.NormFloat64() * 0.06)
	}
	return d
}
