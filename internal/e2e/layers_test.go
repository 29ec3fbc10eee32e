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
	// What Chromium's descriptors claim against what its frames' headers do.
	var claims string
	for _, tid := range []string{"none", "0", "1", "2", "3"} {
		for _, d := range []string{"true", "false"} {
			if n := s.Get("livecheck_video_frames_layer_total", "tid", tid, "droppable", d); n > 0 {
				claims += fmt.Sprintf(" tid %s droppable %s: %.0f;", tid, d, n)
			}
		}
	}
	t.Logf("descriptor TID vs header:%s", claims)
	if s.Get("livecheck_video_frames_layer_total", "tid", "2", "droppable", "true") == 0 {
		t.Error("no frame claimed TID 2 and was droppable: Chromium's descriptor does not carry the layers")
	}
	if n := s.Get("livecheck_video_frames_layer_total", "tid", "0", "droppable", "true"); n > 0 {
		t.Errorf("%.0f frames claimed TL0 and refresh nothing", n)
	}
}
