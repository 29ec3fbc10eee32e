package loadgen_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/models"
)

const token = "loadgen-test-token-0123456789abcdefghijklmnop"

// TestLoadgenShortRun is the correctness check of the load generator and the
// server's media path under it (not a speed test): two simulated candidates for
// 10 s, both interviews analysed and their results stored; /metrics has the
// named series and its counters moved.
func TestLoadgenShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("real WebRTC run of ~20 s")
	}
	env := apptest.New(t, apptest.Options{Env: map[string]string{
		"LIVECHECK_API_TOKEN":    token,
		"LIVECHECK_ICE_LOOPBACK": "true",
		"LIVECHECK_LOG_LEVEL":    "info",
	}})
	m, err := loadgen.LoadMedia("", "", apptest.Testdata("faces/astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != 640 || m.Height != 480 || len(m.Keyframes) < 2 || m.FPS() < 14 || m.FPS() > 16 {
		t.Fatalf("generated video: %dx%d, %d keyframes, %.1f fps", m.Width, m.Height, len(m.Keyframes), m.FPS())
	}
	msrv := httptest.NewServer(metrics.Handler())
	defer msrv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	before, err := metrics.Scrape(ctx, msrv.Client(), msrv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}

	rep, err := loadgen.Run(ctx, loadgen.Config{Server: env.URL, APIToken: token, Interviews: 2, Duration: 10 * time.Second,
		WarmUp: time.Second, Media: m, Viewers: 1, ChallengeEvery: 4 * time.Second, MetricsURL: msrv.URL + "/metrics", Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if rep.Connected != 2 {
		t.Fatalf("%d of 2 candidates connected: %v", rep.Connected, rep.Errors)
	}
	if rep.FramesSent == 0 || rep.AudioSent == 0 || rep.Pings == 0 {
		t.Errorf("client figures: %d frames, %d audio packets, %d pings answered", rep.FramesSent, rep.AudioSent, rep.Pings)
	}
	if rep.ViewerPackets == 0 {
		t.Error("the viewers received no media")
	}
	for _, iv := range rep.Interviews {
		if iv.AnalysedFPS <= 0 {
			t.Errorf("interview %d: no frames analysed in the window", iv.ID)
		}
		// What the server stored, read from Postgres directly.
		sess, err := env.Store.Session(ctx, iv.ID)
		if err != nil {
			t.Errorf("interview %d: session results not stored: %v", iv.ID, err)
			continue
		}
		if sess.FramesAnalysed <= 0 || sess.FramesDecoded <= sess.FramesAnalysed/2 {
			t.Errorf("interview %d: stored %d frames decoded, %d analysed", iv.ID, sess.FramesDecoded, sess.FramesAnalysed)
		}
		sigs, err := env.Store.Signals(ctx, iv.ID)
		if err != nil || len(sigs) == 0 {
			t.Errorf("interview %d: no signals stored (%v)", iv.ID, err)
		}
		got, err := env.Store.Interview(ctx, iv.ID)
		if err != nil || (got.Status != models.StatusCompleted && got.Status != models.StatusFlagged) {
			t.Errorf("interview %d: final status %v (%v), want completed or flagged", iv.ID, got.Status, err)
		}
	}

	after, err := metrics.Scrape(ctx, msrv.Client(), msrv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	d := metrics.Delta(after, before)
	for _, name := range []string{
		"livecheck_rtp_packets_received_total", "livecheck_video_frames_received_total", "livecheck_video_frames_decoded_total",
		"livecheck_video_frames_analysed_total", "livecheck_video_frames_dropped_total", "livecheck_capture_to_observation_seconds",
		"livecheck_challenge_verification_seconds", "livecheck_interviews_active", "livecheck_peers", "livecheck_db_query_seconds",
		"livecheck_db_pool_acquired_conns", "livecheck_db_ping_seconds", "go_goroutines", "process_resident_memory_bytes",
	} {
		if !after.Has(name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"livecheck_rtp_packets_received_total", []string{"kind", "video"}},
		{"livecheck_rtp_packets_received_total", []string{"kind", "audio"}},
		{"livecheck_video_frames_received_total", nil},
		{"livecheck_video_frames_decoded_total", nil},
		{"livecheck_audio_chunks_total", nil},
		{"livecheck_capture_to_observation_seconds_count", nil},
		{"livecheck_db_query_seconds_count", nil},
	} {
		if d.Sum(c.name, c.labels...) <= 0 {
			t.Errorf("%s %v did not move during the run", c.name, c.labels)
		}
	}
	if d.Sum("livecheck_video_frames_analysed_total") <= 0 {
		t.Error("no frames analysed according to /metrics")
	}
	if rep.Server == nil || rep.Server.DecodedFPS <= 0 || rep.Server.P95Ms <= 0 {
		t.Errorf("server figures from /metrics: %+v", rep.Server)
	}
}
