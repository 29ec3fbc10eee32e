package e2e

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/metrics"
)

// TestBrowserSendsTemporalLayers: the candidate page asks Chromium for
// scalabilityMode "L1T3" (livecall.js setScalability); Chromium's VP8 then
// carries frames that refresh no reference (the top temporal layer), which
// the server skips between challenges (the nonref stage of
// livecheck_video_frames_dropped_total), while it still decodes most frames.
func TestBrowserSendsTemporalLayers(t *testing.T) {
	c := startCall(t, "2s")
	srv := httptest.NewServer(metrics.Handler())
	defer srv.Close()
	var mode string
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		m, err := chromedp.Run(c.candidate, chromedp.Evaluate[string](`String(window.lcCall && window.lcCall.scalability)`))
		if err != nil {
			t.Fatalf("read the candidate's scalability: %v", err)
		}
		mode = m
		return mode != "undefined", "the page has not tried setParameters yet"
	})
	t.Logf("Chromium's answer to scalabilityMode L1T3: %q", mode)
	if mode != "L1T3" {
		t.Fatalf("Chromium did not take L1T3: %q", mode)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s, err := metrics.Scrape(t.Context(), srv.Client(), srv.URL+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		skipped := s.Sum("livecheck_video_frames_dropped_total", "stage", "nonref")
		decoded := s.Get("livecheck_video_frames_decoded_total")
		return skipped >= 20 && decoded >= 20, fmt.Sprintf("%.0f frames skipped as non-reference, %.0f decoded", skipped, decoded)
	})
	s, _ := metrics.Scrape(t.Context(), srv.Client(), srv.URL+"/metrics")
	t.Logf("server: %.0f frames received, %.0f decoded, %.0f skipped as non-reference", s.Get("livecheck_video_frames_received_total"),
		s.Get("livecheck_video_frames_decoded_total"), s.Sum("livecheck_video_frames_dropped_total", "stage", "nonref"))
}
