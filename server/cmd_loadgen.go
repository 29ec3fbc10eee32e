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
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/livecheck/livecheck/internal/loadgen"
)

const loadgenUsage = `Usage: livecheck loadgen --server URL --interviews N --duration D [flags]
       livecheck loadgen table RUNS.jsonl     (the capacity table of runs written with --json)

Simulates N live interviews against a running server over real WebRTC (pion):
each candidate opens its link, gives consent, signals over the WebSocket,
sends VP8 from a looped IVF (paced by the wall clock, restarting at the file's
keyframe on PLI) and Opus from a WAV, answers control-channel pings and
acknowledges challenge prompts. Interviews are created, challenged and ended
through the admin API, so the server needs LIVECHECK_API_TOKEN (pass the same
token with --token or LIVECHECK_API_TOKEN). All candidates come from one IP:
raise the server's LIVECHECK_LIMIT_JOIN, LIVECHECK_LIMIT_WS and
LIVECHECK_MAX_LIVE for large N. Without --video the default candidate video is
generated once with ffmpeg from --face-image; without --audio a synthetic
voice-like signal is sent. With several nodes of one cluster (--server
URL1,URL2,...) interviews are created on each in turn and every join goes to
the node the server routes it to (docs/SCALING.md). A live progress line goes
to stderr, the final table to stdout. See docs/BENCH.md.

Flags:
`

func cmdLoadgen(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "table" {
		return loadgenTable(args[1:], stdout)
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "base URL of the livecheck server; several nodes of one cluster separated by commas")
	token := fs.String("token", getenv("LIVECHECK_API_TOKEN"), "the server's admin API token (default $LIVECHECK_API_TOKEN)")
	n := fs.Int("interviews", 1, "simultaneous interviews")
	dur := fs.Duration("duration", 20*time.Second, "measurement window (after all candidates connected and the warm-up)")
	warm := fs.Duration("warmup", 3*time.Second, "time between the last connection and the window")
	video := fs.String("video", "", "VP8 IVF file the candidates send, looped (default: generated with ffmpeg)")
	audio := fs.String("audio", "", "WAV file the candidates send as Opus, looped (default: a synthetic voice-like signal)")
	face := fs.String("face-image", "testdata/faces/astronaut.png", "image the default video is generated from")
	layers := fs.Int("layers", 0, "VP8 temporal layers of the candidates' video: 2 (L1T2) or 3 (L1T3), encoded with libvpx and sent with the descriptor's TID, as a browser asked for scalabilityMode; 0: none (ffmpeg's video)")
	viewers := fs.Int("viewers", 0, "receive-only staff viewers per interview (API-token staff sockets)")
	mode := fs.String("viewer-mode", "observe", "viewer role: observe or host")
	every := fs.Duration("challenge-every", 0, "issue a liveness challenge in every interview this often through the API (0: none)")
	metricsURL := fs.String("metrics", "", "the server's /metrics URL (LIVECHECK_METRICS_LISTEN) for server-side figures")
	label := fs.String("label", "full", "label of this run in the report (runs labelled decode are the floor in `table`)")
	jsonOut := fs.String("json", "", "append the report as one JSON line to this file")
	keep := fs.Bool("keep-open", false, "leave the interviews live at the end (do not end them and wait for stored results)")
	quiet := fs.Bool("quiet", false, "no progress line")
	fs.Usage = func() {
		fmt.Fprint(stderr, loadgenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("loadgen: --token (or LIVECHECK_API_TOKEN) is required: interviews are created through the admin API")
	}
	if *mode != "observe" && *mode != "host" {
		return errors.New("loadgen: --viewer-mode must be observe or host")
	}
	m, err := loadgen.LoadMediaLayers(*video, *audio, *face, *layers)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var servers []string
	for _, s := range strings.Split(*server, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	cfg := loadgen.Config{Server: *server, Servers: servers, APIToken: *token, Interviews: *n, Duration: *dur, WarmUp: *warm, Media: m,
		Viewers: *viewers, ViewerMode: *mode, ChallengeEvery: *every, MetricsURL: *metricsURL, Label: *label, KeepOpen: *keep}
	if !*quiet {
		cfg.Progress = stderr
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *jsonOut != "" {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(*jsonOut, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(append(b, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if rep.Connected < rep.N {
		return fmt.Errorf("loadgen: only %d of %d candidates connected", rep.Connected, rep.N)
	}
	return nil
}

func loadgenTable(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return errors.New("usage: livecheck loadgen table RUNS.jsonl...")
	}
	var all []loadgen.Report
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		reps, err := loadgen.ReadReports(f)
		f.Close()
		if err != nil {
			return err
		}
		all = append(all, reps...)
	}
	loadgen.BenchTable(stdout, all)
	// 15 fps in, 5.5 analysed between challenges (LIVECHECK_ANALYSIS_FPS's default, kept on average),
	// every frame during one; the bench's challenge schedule keeps about a fifth of the interviews in one.
	if p, ok := loadgen.Project(all, runtime.NumCPU(), 5.5, 15, 0.2); ok {
		fmt.Fprintln(stdout)
		p.Print(stdout)
	}
	return nil
}
