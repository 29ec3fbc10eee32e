package redteam_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/redteam"
)

const token = "redteam-test-token-0123456789abcdefghijklmnop"

var (
	kitOnce sync.Once
	kit     *redteam.Kit
	kitErr  error
)

func testKit(t *testing.T) *redteam.Kit {
	t.Helper()
	kitOnce.Do(func() { kit, kitErr = redteam.NewKit(apptest.Testdata("faces/astronaut.png")) })
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
	return apptest.New(t, apptest.Options{Env: env})
}

// TestRedteamProbe runs the scenarios named in REDTEAM_PROBE (development aid; skipped
// without it). REDTEAM_KINDS limits the challenge kinds, REDTEAM_CHALLENGES the presses.
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	par, _ := strconv.Atoi(os.Getenv("REDTEAM_PARALLEL"))
	res := redteam.Run(ctx, redteam.Config{Server: env.URL, APIToken: token, Challenges: n, Parallel: par, Log: t.Logf}, k, scs)
	var b strings.Builder
	redteam.PrintTable(&b, redteam.Table(res))
	t.Log("\n" + b.String())
	for _, r := range res {
		t.Logf("%s %s: %s signals %v", r.Scenario, r.Params, r.Status, r.Signals)
		for _, c := range r.Challenges {
			t.Logf("   %s %s %s", c.Kind, c.Outcome, c.Reason)
		}
	}
}
