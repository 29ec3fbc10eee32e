package redteam_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/redteam"
)

const token = "redteam-test-token-0123456789abcdefghijklmnop"

var (
	kitOnce sync.Once
	kit     *redteam.Kit
	kitErr  error
)

// testKit loads the synthetic person and the swap identity once per test binary:
// testdata/faces/astronaut.png and obama.jpg, or the stills named by REDTEAM_FACE and
// REDTEAM_SWAP (paths; development, to see whether the verifiers generalise to other faces).
func testKit(t *testing.T) *redteam.Kit {
	t.Helper()
	kitOnce.Do(func() {
		face, swap := os.Getenv("REDTEAM_FACE"), os.Getenv("REDTEAM_SWAP")
		if face == "" {
			face = apptest.Testdata("faces/astronaut.png")
		}
		if swap == "" {
			swap = apptest.Testdata("faces/obama.jpg")
		}
		kit, kitErr = redteam.NewKit(face, swap)
	})
	if kitErr != nil {
		t.Fatal(kitErr)
	}
	return kit
}

// server starts the app with challenges driven by "challenge now" only.
func server(t *testing.T, kinds string) *apptest.Env {
	env := map[string]string{
		"LIVECHECK_API_TOKEN":        token,
		"LIVECHECK_ICE_LOOPBACK":     "true",
		"LIVECHECK_LOG_LEVEL":        "info",
		"LIVECHECK_CHALLENGES":       "6",
		"LIVECHECK_INTERVIEW_LENGTH": "2h",
		"LIVECHECK_CHALLENGE_WARMUP": "1h",
	}
	if kinds != "" {
		env["LIVECHECK_CHALLENGE_KINDS"] = kinds
	}
	// REDTEAM_MIX: the probe's plan mix (LIVECHECK_CHALLENGE_MIX; the in-process server does not
	// read the process environment), to measure a mix before it becomes the default.
	if m, ok := os.LookupEnv("REDTEAM_MIX"); ok {
		env["LIVECHECK_CHALLENGE_MIX"] = m
	}
	return apptest.New(t, apptest.Options{Env: env})
}

// TestRedteamProbe runs the scenarios named in REDTEAM_PROBE (development aid; skipped
// without it). REDTEAM_KINDS limits the challenge kinds, REDTEAM_MIX sets the plan mix,
// REDTEAM_CHALLENGES the presses, REDTEAM_RUNS the interviews per scenario setting,
// REDTEAM_FACE and REDTEAM_SWAP the stills (paths) of the person and of the swap identity,
// REDTEAM_FLASH_GAIN and REDTEAM_ALBEDO the skin's reflection and albedo.
func TestRedteamProbe(t *testing.T) {
	names := os.Getenv("REDTEAM_PROBE")
	if names == "" {
		t.Skip("set REDTEAM_PROBE=scenario[,scenario]")
	}
	k := testKit(t)
	env := server(t, os.Getenv("REDTEAM_KINDS"))
	n, _ := strconv.Atoi(os.Getenv("REDTEAM_CHALLENGES"))
	scs, err := redteam.Scenarios(strings.Split(names, ","))
	if err != nil {
		t.Fatal(err)
	}
	// REDTEAM_FLASH_GAIN and REDTEAM_ALBEDO: a skin reflecting less of the screen, and a
	// darker skin (redteam.Look.Albedo; finding 21), for every scenario of the probe.
	for i := range scs {
		if g, err := strconv.ParseFloat(os.Getenv("REDTEAM_FLASH_GAIN"), 64); err == nil && scs[i].Behaviour.FlashGain > 0 {
			scs[i].Behaviour.FlashGain = g
		}
		if a, err := strconv.ParseFloat(os.Getenv("REDTEAM_ALBEDO"), 64); err == nil {
			scs[i].Look.Albedo = a
		}
	}
	// REDTEAM_IDTRACE: every face the identity stage folds in, with its frame's conditions
	// (finding 32); the descriptors stay in memory, only distances are printed.
	var tr *idTrace
	if os.Getenv("REDTEAM_IDTRACE") != "" {
		tr = &idTrace{faces: map[int64][]analysis.IdentityFace{}}
		analysis.SetIdentityTrace(tr.add)
		t.Cleanup(func() { analysis.SetIdentityTrace(nil) })
	}
	// REDTEAM_METRICS: also the photo detector's windows (issue 16's darker photo score).
	var ptr *photoTrace
	if os.Getenv("REDTEAM_METRICS") != "" {
		ptr = &photoTrace{ws: map[int64]photoSession{}}
		analysis.SetPhotoTrace(ptr.add)
		t.Cleanup(func() { analysis.SetPhotoTrace(nil) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	par, _ := strconv.Atoi(os.Getenv("REDTEAM_PARALLEL"))
	runs, _ := strconv.Atoi(os.Getenv("REDTEAM_RUNS"))
	res := redteam.Run(ctx, redteam.Config{Server: env.URL, APIToken: token, Challenges: n, Parallel: par, Runs: runs, Log: t.Logf}, k, scs)
	var b strings.Builder
	redteam.PrintTable(&b, redteam.Table(res))
	t.Log("\n" + b.String())
	for _, r := range res {
		t.Logf("%s %s: %s (%.1f; server %s %.1f) signals %v %v; sender late p50/p90 %v s", r.Scenario, r.Params, r.Status, r.BehaviourScore, r.Decision, r.Score, r.Signals, r.Reasons, r.SenderLate)
		for _, c := range r.Challenges {
			t.Logf("   %s %s %s", c.Kind, c.Outcome, c.Reason)
		}
		if tr != nil {
			t.Logf("   keyframes sent in the first 10 s (s, bytes): %v", r.Keyframes)
			tr.print(t, r.Interview)
		}
		if os.Getenv("REDTEAM_METRICS") != "" { // the stored metrics and signals (development)
			recs, err := env.Store.Challenges(context.Background(), r.Interview)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range recs {
				t.Logf("   stored %s %s attempt %d %s %q peak %.2f %s %v", c.Kind, c.Params, c.Attempt, c.Outcome, c.Reason, c.Peak, c.Unit, c.Metrics)
			}
			if ss, err := env.Store.Session(context.Background(), r.Interview); err == nil {
				d := ss.EndedAt.Sub(ss.StartedAt).Seconds()
				t.Logf("   session %.0f s: frames decoded %d analysed %d (%.1f fps over the session, challenge windows included)", d, ss.FramesDecoded, ss.FramesAnalysed, float64(ss.FramesAnalysed)/d)
			}
			ptr.print(t, r.Interview, recs)
			sigs, err := env.Store.Signals(context.Background(), r.Interview)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sigs {
				if s.Score > 0.3 {
					t.Logf("   signal %s value %.3f score %.2f conf %.2f %q", s.Kind, s.Value, s.Score, s.Confidence, s.Reason)
				}
			}
		}
	}
}

// TestRedteamDirection is the short red-team run of `make test`: one interview of every
// scenario over real WebRTC against the app, two "challenge now" presses each, on servers whose
// allowed kinds put the challenge that exposes the attack first (the plan's mix orders them).
// It asserts the direction only: the honest person is verified (at least one of two
// interviews: a starved analysis may leave both presses inconclusive), and no attack is.
// Nothing is timed: every wait is a condition with a deadline.
func TestRedteamDirection(t *testing.T) {
	if testing.Short() {
		t.Skip("real WebRTC interviews, about 3 minutes")
	}
	k := testKit(t)
	all, err := redteam.Scenarios([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	pick := func(name, params string) redteam.Scenario {
		for _, s := range all {
			if s.Name == name && (params == "" || strings.HasPrefix(s.Params, params)) {
				return s
			}
		}
		t.Fatalf("no scenario %s %s", name, params)
		return redteam.Scenario{}
	}
	groups := []struct {
		kinds string
		scs   []redteam.Scenario
	}{
		{"cover_face,turn_head", []redteam.Scenario{pick("honest", "latency"), pick("photo", ""), pick("loop", ""),
			pick("replay", ""), pick("swap", "paints over")}},
		// The voice converter that delays its video to match passes lip sync by construction: the
		// flash's lag limit is what catches it (finding 31).
		{"flash,turn_head", []redteam.Scenario{pick("delayed", ""), pick("swap", "drops 40 %"),
			pick("voiceconv", "pitch +18 %, voice and video 0.6 s late")}},
		{"read_digits,turn_head", []redteam.Scenario{pick("tts", "espeak-ng digits +1.5 s, no mouth"),
			pick("voiceconv", "pitch +18 %, voice 0.6 s after the mouth")}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, g := range groups {
		env := server(t, g.kinds)
		// 400 decoded frames (27 s at 15 fps): frame_cadence's confidence is full from 300 frame
		// steps; a quiet machine answers two challenges in less (a CI run ended the dropping
		// swap's call at a confidence that left it verified).
		cfg := redteam.Config{Server: env.URL, APIToken: token, Challenges: 2, Parallel: 2, Log: t.Logf, MinFrames: 400}
		res := redteam.Run(ctx, cfg, k, g.scs)
		for _, r := range res {
			if r.Error != "" {
				t.Errorf("%s %s: %s", r.Scenario, r.Params, r.Error)
				continue
			}
			switch {
			case r.Attack && r.Verified:
				// A starved sender is not the attack the scenario specifies: its late video
				// re-aligns a late voice (finding 31), the voice converter that delays its video,
				// which this group's kinds cannot catch. Such an interview is measured again; an
				// attack verified with its sender on time fails the test.
				t.Logf("attack %s (%s) was verified: challenges %v, signals %v, sender late p50/p90 %v s", r.Scenario, r.Params, r.Challenges, r.Signals, r.SenderLate)
				if !starved(r) {
					t.Errorf("attack %s (%s) verified with its sender on time", r.Scenario, r.Params)
					continue
				}
				sc := pick(r.Scenario, r.Params)
				again := redteam.RunOne(ctx, cfg, k, sc, 98)
				t.Logf("second interview (the first's sender starved): %s %v %s; sender late %v s", again.Status, again.Challenges, again.Error, again.SenderLate)
				switch {
				case again.Error != "":
					t.Errorf("%s %s: %s", again.Scenario, again.Params, again.Error)
				case again.Verified && !starved(again):
					t.Errorf("attack %s (%s) verified with its sender on time", r.Scenario, r.Params)
				case again.Verified:
					t.Logf("attack %s (%s) not measured: its sender starved in both interviews", r.Scenario, r.Params)
				}
			case !r.Attack && !r.Verified:
				again := redteam.RunOne(ctx, cfg, k, pick("honest", "latency"), 99)
				t.Logf("honest not verified (%v, signals %v); second interview: %s %v %s", r.Challenges, r.Signals, again.Status, again.Challenges, again.Error)
				if !again.Verified {
					t.Errorf("honest not verified in two interviews: %v / %v", r.Challenges, again.Challenges)
				}
			}
		}
	}
}

// starved reports that an interview's video sender rendered its frames late (p90 over 0.2 s
// after their capture slots): the machine, not the scenario, set its timing.
func starved(r redteam.Result) bool { return r.SenderLate[1] > 0.2 }
