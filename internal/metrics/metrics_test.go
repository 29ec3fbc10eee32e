package metrics_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/metrics"
)

// Names are the series the issue asks for; every one must be on /metrics from the start.
var Names = []string{
	"livecheck_rtp_packets_received_total",
	"livecheck_video_frames_received_total",
	"livecheck_video_frames_decoded_total",
	"livecheck_video_frames_analysed_total",
	"livecheck_video_frames_dropped_total",
	"livecheck_video_frames_refreshed_total",
	"livecheck_capture_to_observation_seconds",
	"livecheck_video_decode_seconds",
	"livecheck_video_analysis_seconds",
	"livecheck_challenge_verification_seconds",
	"livecheck_challenges_total",
	"livecheck_interviews_active",
	"livecheck_peers",
	"livecheck_db_query_seconds",
	"go_goroutines",
	"process_cpu_seconds_total",
	"process_resident_memory_bytes",
}

func TestHandlerServesNamedSeries(t *testing.T) {
	metrics.SetLiveInterviews(func() int { return 3 })
	metrics.ObserveDB("select", time.Now().Add(-2*time.Millisecond))
	metrics.FrameObserved(time.Now().Add(-30*time.Millisecond), time.Now().Add(-10*time.Millisecond), true)
	metrics.FrameDropped("mailbox", true)
	metrics.FrameRefreshed()
	metrics.PeerJoined("candidate")
	defer metrics.PeerLeft("candidate")

	srv := httptest.NewServer(metrics.Handler())
	defer srv.Close()
	s, err := metrics.Scrape(context.Background(), srv.Client(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range Names {
		if !s.Has(n) {
			t.Errorf("series %s missing", n)
		}
	}
	if v := s.Get("livecheck_interviews_active"); v != 3 {
		t.Errorf("interviews active %v, want 3", v)
	}
	if v := s.Get("livecheck_peers", "role", "candidate"); v < 1 {
		t.Errorf("candidate peers %v", v)
	}
	if v := s.Get("livecheck_video_frames_dropped_total", "stage", "mailbox", "challenge", "true"); v < 1 {
		t.Errorf("mailbox drops in challenges %v", v)
	}
	if v := s.Get("livecheck_video_frames_refreshed_total"); v < 1 {
		t.Errorf("refreshed frames %v", v)
	}
	h := s.Histogram("livecheck_capture_to_observation_seconds", "challenge", "true")
	if q := metrics.Quantile(0.5, h); !(q > 0.02 && q <= 0.04) {
		t.Errorf("median capture→observation %v s, want in (0.02, 0.04]", q)
	}
	resp, err := srv.Client().Get(srv.URL + "/debug/pprof/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pprof index: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestParseAndQuantile(t *testing.T) {
	text := `# HELP x_seconds a histogram
# TYPE x_seconds histogram
x_seconds_bucket{b="2",a="1",le="0.01"} 10
x_seconds_bucket{a="1",b="2",le="0.1"} 90
x_seconds_bucket{a="1",b="2",le="+Inf"} 100
x_seconds_sum{a="1",b="2"} 3
x_seconds_count{a="1",b="2"} 100
plain 4.5 1700000000000
esc{v="a\"b"} 1
`
	s, err := metrics.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.Get("plain") != 4.5 || s.Get("x_seconds_count", "b", "2", "a", "1") != 100 || s.Get("esc", "v", `a"b`) != 1 {
		t.Fatalf("parsed %v", s)
	}
	h := s.Histogram("x_seconds", "a", "1")
	if len(h) != 3 || !math.IsInf(h[2].Le, 1) {
		t.Fatalf("buckets %v", h)
	}
	if q := metrics.Quantile(0.5, h); math.Abs(q-0.055) > 1e-9 { // 50th of 100: 40 of the 80 in (0.01, 0.1]
		t.Errorf("p50 %v, want 0.055", q)
	}
	if q := metrics.Quantile(0.05, h); math.Abs(q-0.005) > 1e-9 {
		t.Errorf("p5 %v, want 0.005", q)
	}
	if q := metrics.Quantile(0.99, h); q != 0.1 {
		t.Errorf("p99 in the +Inf bucket: %v, want the highest finite bound 0.1", q)
	}
	d := metrics.Delta(s, metrics.Samples{metrics.Key("plain"): 1.5})
	if d.Get("plain") != 3 {
		t.Errorf("delta %v", d.Get("plain"))
	}
	if !math.IsNaN(metrics.Quantile(0.5, nil)) {
		t.Error("quantile of nothing should be NaN")
	}
}

// The per-frame instrumentation runs on the media goroutines of every session.
func BenchmarkFrameObserved(b *testing.B) {
	capture, start := time.Now().Add(-20*time.Millisecond), time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		metrics.FrameObserved(capture, start, i%4 == 0)
	}
}

func BenchmarkFrameDecodedAndPacket(b *testing.B) {
	start := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		metrics.RTPPacket(true)
		metrics.FrameDecoded(start)
	}
}

func BenchmarkScrapeParse(b *testing.B) {
	srv := httptest.NewServer(metrics.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	var buf strings.Builder
	_, _ = io.Copy(&buf, resp.Body)
	resp.Body.Close()
	text := buf.String()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := metrics.Parse(strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}
