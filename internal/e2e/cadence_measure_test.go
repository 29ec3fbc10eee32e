package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
)

// TestCadenceMeasure measures what the server's frame_cadence signal reads from a real
// (headless) Chromium candidate: the fake camera from a y4m file, Chromium's own
// capture, VP8 encoder and its adaptation, for E2E_MEASURE_SECONDS (default 60) of call. A
// measurement, not a test of make test (minutes of real time, and the numbers depend on the
// machine's load): run with
//
//	E2E_MEASURE_CADENCE=plain|noisy|hd|repeat [E2E_MEASURE_HOG=N] nice -n 10 go test -run TestCadenceMeasure -v ./internal/e2e/
//
// plain is the e2e suite's fake camera (a panned still: no sensor noise, every frame differs
// by the pan); noisy adds temporal noise (a sensor's, σ≈4 levels); hd is noisy at 1280×720 and
// 30 fps (a heavier encode, for CPU pressure); repeat is noisy rendered at 12 fps and padded to
// 15 by repeating a frame in five (a virtual camera that repeats the swap's last frame;
// docs/REDTEAM.md finding 16). E2E_MEASURE_HOG starts N busy loops for the call's length (they
// inherit the test's niceness, so run the test nice'd: the hogs then compete with Chromium, not
// with the rest of the machine). It logs the server's signals and Chromium's own outbound-rtp
// statistics (frames encoded and sent, quality limitation). E2E_MEASURE_STARVE=D (0 < D < 1)
// starves the candidate's whole browser instead (capture, encoder, network: an overloaded
// laptop): its processes are stopped for D of every 100 ms (SIGSTOP, SIGCONT) for the call.
func TestCadenceMeasure(t *testing.T) {
	mode := os.Getenv("E2E_MEASURE_CADENCE")
	if mode == "" {
		t.Skip("a measurement: set E2E_MEASURE_CADENCE=plain|noisy|hd|repeat")
	}
	secs := 60
	if s, err := strconv.Atoi(os.Getenv("E2E_MEASURE_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	video := apptest.FaceY4M(t)
	switch mode {
	case "plain":
	case "noisy":
		video = derivedY4M(t, video, "noise=alls=7:allf=t")
	case "hd":
		// A heavier encode: 1280×720 at 30 fps, noisy.
		video = derivedY4M(t, video, "scale=1280:720,fps=30,noise=alls=7:allf=t")
	case "repeat":
		// 12 fps of distinct noisy frames, then 15 fps by repetition (fps duplicates 1 of 5).
		video = derivedY4M(t, video, "fps=12,noise=alls=7:allf=t,fps=15")
	default:
		t.Fatalf("E2E_MEASURE_CADENCE=%q: want plain, noisy, hd or repeat", mode)
	}
	c := startCallWith(t, map[string]string{"LIVECHECK_REJOIN_GRACE": "30s"}, apptest.BrowserOptions{VideoFile: video, Timeout: time.Duration(secs+180) * time.Second})
	hogs, _ := strconv.Atoi(os.Getenv("E2E_MEASURE_HOG"))
	ctx, stop := context.WithTimeout(context.Background(), time.Duration(secs+30)*time.Second)
	defer stop()
	for i := 0; i < hogs; i++ {
		cmd := exec.CommandContext(ctx, "sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = cmd.Wait() }()
	}
	var starved <-chan struct{} = closed()
	if duty, _ := strconv.ParseFloat(os.Getenv("E2E_MEASURE_STARVE"), 64); duty > 0 {
		root := chromedp.FromContext(c.candidate).Browser.Process()
		if root == nil {
			t.Fatal("no candidate browser process")
		}
		starved = starve(ctx, root.Pid, duty)
		defer func() { stop(); <-starved }()
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := c.session(t)
		if s == nil {
			return false, "no session"
		}
		l := s.Snapshot()
		return l.FramesDecoded > 15, fmt.Sprintf("session %+v", l)
	})
	start := time.Now()
	load0 := loadAvg()
	for time.Since(start) < time.Duration(secs)*time.Second {
		time.Sleep(time.Second)
	}
	load1 := loadAvg()
	stop()
	<-starved // the browser runs again (its statistics are counts since the start)
	out := candidateOutbound(t, c.candidate)
	if _, err := chromedp.Run(c.recruiter, chromedp.Evaluate[bool](`window.lcCall.send({t:"end"}), true`)); err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		_, err := c.env.Store.LatestVerdict(bg, c.iv.ID)
		return err == nil, fmt.Sprintf("verdict: %v", err)
	})
	sess, _ := c.env.Store.Session(bg, c.iv.ID)
	sigs, _ := c.env.Store.Signals(bg, c.iv.ID)
	t.Logf("mode %s, %d hogs, starved %s, %d s; load average %s at the start, %s at the end", mode, hogs, os.Getenv("E2E_MEASURE_STARVE"), secs, load0, load1)
	t.Logf("chromium outbound-rtp: %s", out)
	if sess != nil {
		t.Logf("server: %d frames decoded, %d analysed", sess.FramesDecoded, sess.FramesAnalysed)
	}
	for _, s := range sigs {
		if s.Kind == "frame_cadence" || s.Kind == "virtual_camera" {
			t.Logf("signal %s value %.3f score %.3f conf %.2f: %s", s.Kind, s.Value, s.Score, s.Confidence, s.Reason)
		}
	}
}

// derivedY4M makes a y4m from src through the ffmpeg filter chain vf, in the test's directory.
func derivedY4M(t *testing.T, src, vf string) string {
	t.Helper()
	out := fmt.Sprintf("%s/face-%x.y4m", t.TempDir(), len(vf))
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-vf", vf, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", vf, err, b)
	}
	return out
}

// candidateOutbound is Chromium's outbound-rtp video statistics of the candidate's page.
func candidateOutbound(t *testing.T, ctx context.Context) string {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await window.lcCall.pc.getStats(); const out = [];
		r.forEach(s => { if (s.type === "outbound-rtp" && s.kind === "video") out.push({framesEncoded: s.framesEncoded, framesSent: s.framesSent,
			fps: s.framesPerSecond, width: s.frameWidth, height: s.frameHeight, limitation: s.qualityLimitationReason,
			limitationDurations: s.qualityLimitationDurations, encodeTime: s.totalEncodeTime, bytes: s.bytesSent, target: s.targetBitrate}) });
		r.forEach(s => { if (s.type === "media-source" && s.kind === "video") out.push({sourceFrames: s.frames, sourceFps: s.framesPerSecond}) });
		return JSON.stringify(out) })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("candidate stats: %v", err)
	}
	return raw
}

// starve stops the process tree under root (the test's own browser) for duty of every 100 ms
// until ctx ends, and then lets it run; done closes when every process was continued.
func starve(ctx context.Context, root int, duty float64) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var pids []int
		signal := func(sig syscall.Signal) {
			for _, p := range pids {
				_ = syscall.Kill(p, sig)
			}
		}
		defer func() { signal(syscall.SIGCONT) }()
		for i := 0; ; i++ {
			if i%10 == 0 {
				signal(syscall.SIGCONT) // before the tree changes under a stopped parent
				pids = processTree(root)
			}
			signal(syscall.SIGSTOP)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(duty * float64(100*time.Millisecond))):
			}
			signal(syscall.SIGCONT)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration((1 - duty) * float64(100*time.Millisecond))):
			}
		}
	}()
	return done
}

// closed is a closed channel.
func closed() <-chan struct{} { c := make(chan struct{}); close(c); return c }

// processTree is root and its descendants, from /proc.
func processTree(root int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	in := map[int]bool{root: true}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if in[pp] && !in[pid] {
				in[pid], changed = true, true
			}
		}
	}
	out := make([]int, 0, len(in))
	for pid := range in {
		out = append(out, pid)
	}
	return out
}

// loadAvg is the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
