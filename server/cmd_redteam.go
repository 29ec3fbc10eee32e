package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/livecheck/livecheck/internal/redteam"
)

const redteamUsage = `Usage: livecheck redteam --server URL --scenarios all --runs K [flags]

Simulated candidates over real WebRTC (the load generator's pion path): each
interview is created through the admin API, a candidate joins and sends a
synthetic person rendered in Go from a public-domain face still (VP8 with
libvpx, Opus with libopus) that responds to the challenge prompts it sees on
the control channel, or an attack (loop, photo, replay, delayed, swap with a
failure mode, tts, voiceconv). The recruiter's "challenge now" is pressed
--challenges times per interview; the interview is then ended and its stored
verdict read. Prints a table (scenario x parameters: interviews, verdicts,
APCER/BPCER, challenge pass rates, median reaction latency) and writes every
result as JSON with --json. Run the server with LIVECHECK_CHALLENGE_WARMUP
large (the presses drive the challenges). See docs/REDTEAM.md.

Flags:
`

func cmdRedteam(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("redteam", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "base URL of the livecheck server")
	token := fs.String("token", getenv("LIVECHECK_API_TOKEN"), "the server's admin API token (default $LIVECHECK_API_TOKEN)")
	scen := fs.String("scenarios", "all", "comma-separated scenario names (honest, loop, photo, replay, delayed, swap, tts, voiceconv; swap/MODE for one swap failure mode: swap/dropout, swap/MODE_mild for its mildest setting: swap/dropout_mild; honest/dim, honest/darker; voiceconv/lagged, voiceconv/synced for one voice conversion) or all")
	runs := fs.Int("runs", 1, "interviews per scenario setting")
	chal := fs.Int("challenges", 5, "conclusive challenge results per interview (\"challenge now\" is pressed up to twice as often)")
	par := fs.Int("parallel", 1, "interviews at once")
	face := fs.String("face-image", "testdata/faces/astronaut.png", "public-domain face still the synthetic person is drawn from")
	swapFace := fs.String("swap-image", "testdata/faces/obama.jpg", "public-domain face still of the identity the swap scenarios paste over the person (another person)")
	loopIVF := fs.String("loop-ivf", "", "VP8 IVF the loop scenario sends (default: generated from --face-image)")
	jsonOut := fs.String("json", "", "write the results and the table as JSON to this file")
	quiet := fs.Bool("quiet", false, "no line per interview on stderr")
	from := fs.String("from", "", "comma-separated JSON files of earlier runs (--json): print their results as one table, run nothing")
	fs.Usage = func() {
		fmt.Fprint(stderr, redteamUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from != "" {
		return redteamFrom(strings.Split(*from, ","), stdout, *jsonOut)
	}
	if *token == "" {
		return errors.New("redteam: --token (or LIVECHECK_API_TOKEN) is required")
	}
	scs, err := redteam.Scenarios([]string{*scen})
	if err != nil {
		return err
	}
	for i := range scs {
		if scs[i].Source == "loop" && *loopIVF != "" {
			scs[i].LoopFile, scs[i].Params = *loopIVF, *loopIVF
		}
	}
	kit, err := redteam.NewKit(*face, *swapFace)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := redteam.Config{Server: *server, APIToken: *token, Challenges: *chal, Runs: *runs, Parallel: *par}
	if !*quiet {
		cfg.Log = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	started := time.Now().UTC()
	results := redteam.Run(ctx, cfg, kit, scs)
	rows := redteam.Table(results)
	redteam.PrintTable(stdout, rows)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(map[string]any{"date": started, "runs": *runs, "challenges_per_interview": *chal,
			"table": rows, "results": results}, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// redteamFrom prints the table of the results stored in files (the --json of earlier runs, for
// example the chunks of a long run interrupted and resumed), and writes them as one JSON file.
func redteamFrom(files []string, stdout io.Writer, jsonOut string) error {
	var all []redteam.Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("redteam: %w", err)
		}
		var doc struct {
			Results []redteam.Result `json:"results"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("redteam: %s: not the JSON of a run: %w", f, err)
		}
		if len(doc.Results) == 0 {
			return fmt.Errorf("redteam: %s holds no results", f)
		}
		all = append(all, doc.Results...)
	}
	rows := redteam.Table(all)
	redteam.PrintTable(stdout, rows)
	if jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(map[string]any{"from": files, "table": rows, "results": all}, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(jsonOut, append(b, '\n'), 0o644)
}
