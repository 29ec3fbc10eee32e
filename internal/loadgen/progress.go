package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecheck/livecheck/internal/metrics"
)

// progress prints one live status line (rewritten with \r) and samples the
// server's RSS for the peak.
type progress struct {
	w         io.Writer
	cfg       *Config
	c         *counters
	hc        *http.Client
	start     time.Time
	connected atomic.Int32

	mu     sync.Mutex
	ph     string
	peak   float64
	last   metrics.Samples
	lastAt time.Time
	server string
	width  int
}

func (p *progress) phase(s string) {
	p.mu.Lock()
	p.ph = s
	p.mu.Unlock()
	p.print()
}

func (p *progress) resetPeak() {
	p.mu.Lock()
	p.peak = 0
	p.mu.Unlock()
}

func (p *progress) peakRSS() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

func (p *progress) loop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.sample(ctx)
		p.print()
	}
}

// sample scrapes /metrics and turns the change since the last scrape into rates.
func (p *progress) sample(ctx context.Context) {
	if p.cfg.MetricsURL == "" {
		return
	}
	s, err := metrics.Scrape(ctx, p.hc, p.cfg.MetricsURL)
	if err != nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	rss := s.Get("process_resident_memory_bytes")
	if rss > p.peak {
		p.peak = rss
	}
	if p.last != nil {
		d := metrics.Delta(s, p.last)
		w := now.Sub(p.lastAt).Seconds()
		p.server = fmt.Sprintf(" | server: dec %.0f/s ana %.0f/s behind-drops %.0f/s (chal %.0f) cpu %.0f%% rss %.0f MB gor %.0f",
			d.Get("livecheck_video_frames_decoded_total")/w, d.Sum("livecheck_video_frames_analysed_total")/w,
			d.Sum("livecheck_video_frames_dropped_total", "stage", "mailbox")/w,
			d.Get("livecheck_video_frames_dropped_total", "stage", "mailbox", "challenge", "true"),
			100*d.Get("process_cpu_seconds_total")/w, rss/(1<<20), s.Get("go_goroutines"))
	}
	p.last, p.lastAt = s, now
}

func (p *progress) print() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("[%5.1fs] %-10s %d/%d connected, sent %d frames %d audio, PLI %d, pings %d, prompts %d%s",
		time.Since(p.start).Seconds(), p.ph, p.connected.Load(), p.cfg.Interviews, p.c.videoFrames.Load(), p.c.audioPackets.Load(),
		p.c.keyframeReqs.Load(), p.c.pings.Load(), p.c.prompts.Load(), p.server)
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprint(p.w, "\r"+line+pad)
}

func (p *progress) done() {
	if p.w != nil {
		p.print()
		fmt.Fprintln(p.w)
	}
}
