package analysis

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

// BenchmarkAnalysedFrame is the session's cost per analysed frame (vision,
// the passive detectors and the stages) at the live rate of 8 analysed
// frames per second, without and with the face-identity stage (one face
// per second: every 8th frame). The difference is the identity stage's
// cost per analysed frame; cpu-ms/op is the process's CPU time per frame,
// which a loaded machine inflates less than wall time.
func BenchmarkAnalysedFrame(b *testing.B) {
	lm, err := vision.LoadLandmarker("")
	if err != nil {
		b.Fatal(err)
	}
	vcfg := vision.Config{Landmarker: lm}
	f := stillFrame(b)
	for _, tc := range []struct {
		name string
		id   IdentityConfig
	}{{"identity=off", IdentityConfig{}}, {"identity=on", IdentityConfig{Model: facetest.Model(b)}}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{AnalysisFPS: DefaultFileFPS, Detectors: true, Logger: quietLogger(), Identity: tc.id,
				Now: func() time.Time { return FileEpoch }}
			s := newSession(cfg.withDefaults(), 0, nil, false)
			an, err := vision.NewAnalyzer(vcfg)
			if err != nil {
				b.Fatal(err)
			}
			defer an.Close()
			fr := *f
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fr.Capture = FileEpoch.Add(time.Duration(float64(i) * float64(time.Second) / DefaultFileFPS))
				s.frameDecoded(&fr)
				if err := s.observe(an, &fr); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			if tc.id.Model != nil && b.N >= 16 {
				if rep := s.identity.report(); rep.Embedded == 0 {
					b.Fatalf("no face embedded: %v", rep.Rejected)
				}
			}
		})
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLiveIdentityTail is the capture→observation latency of live
// sessions with the identity stage, its faces embedded inline in the
// analysis slot (Workers −1, before embedPool) against the pool: sessions
// live sessions fed a decoded 640x480 still at 15 fps for 12 s each (no
// decoding, no challenges: one analysed frame in ten carries a face), one
// Gate of NumCPU slots. p50-ms and p95-ms come from the
// livecheck_capture_to_observation_seconds histogram (interpolated in its
// buckets, as loadgen does); a shared machine moves them, so compare the
// two halves of one run. b.N is not used; BENCH_SESSIONS sets the number
// of sessions.
func BenchmarkLiveIdentityTail(b *testing.B) {
	sessions, secs := 16, 12
	if n, err := strconv.Atoi(os.Getenv("BENCH_SESSIONS")); err == nil && n > 0 {
		sessions = n
	}
	_, newAnalyzer := visionFactory(b)
	still := stillFrame(b)
	for _, tc := range []struct {
		name    string
		workers int
	}{{"inline", -1}, {"pool", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			e := New(Config{NewAnalyzer: newAnalyzer, Detectors: true, Logger: quietLogger(), Gate: NewGate(runtime.NumCPU()),
				Identity: IdentityConfig{Model: facetest.Model(b), Workers: tc.workers}})
			h0 := observationHistogram(b)
			var wg sync.WaitGroup
			ss := make([]*Session, sessions)
			start := time.Now()
			for i := range ss {
				ss[i] = e.Open(int64(i+1), nil)
				wg.Add(1)
				go func(s *Session, phase time.Duration) {
					defer wg.Done()
					fr := *still
					t := time.NewTicker(time.Second / 15)
					defer t.Stop()
					time.Sleep(phase)
					for n := 0; n < secs*15; n++ {
						<-t.C
						fr.Capture, fr.Seq = time.Now(), uint64(n)
						s.frame(&fr, fr.Capture)
					}
				}(ss[i], time.Duration(i)*time.Second/15/time.Duration(sessions))
			}
			wg.Wait()
			embedded := 0
			for _, s := range ss {
				r := s.finish(models.EndCompleted, time.Now())
				if r.Identity != nil {
					embedded += r.Identity.Embedded
				}
			}
			h1 := observationHistogram(b)
			for i := range h1 {
				h1[i] -= h0[i]
			}
			b.ReportMetric(bucketQuantile(h1, 0.5)*1000, "p50-ms")
			b.ReportMetric(bucketQuantile(h1, 0.95)*1000, "p95-ms")
			b.ReportMetric(h1[len(h1)-1]/float64(sessions)/time.Since(start).Seconds(), "analysed-fps/session")
			b.ReportMetric(float64(embedded), "faces")
			if embedded == 0 {
				b.Fatal("no face embedded")
			}
		})
	}
}

// observationHistogram reads the cumulative bucket counts of the passive
// frames' capture→observation histogram (the last entry is the count).
func observationHistogram(b *testing.B) []float64 {
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "livecheck_capture_to_observation_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() != "false" {
				continue
			}
			var out []float64
			for _, bk := range m.GetHistogram().GetBucket() {
				out = append(out, float64(bk.GetCumulativeCount()))
			}
			return append(out, float64(m.GetHistogram().GetSampleCount()))
		}
	}
	return make([]float64, len(metricsLatencyBounds)+1)
}

// metricsLatencyBounds are the histogram's upper bounds (internal/metrics).
var metricsLatencyBounds = []float64{.002, .005, .01, .015, .02, .025, .03, .04, .05, .06, .075, .1, .125, .15, .2, .3, .5, 1, 2, 5}

// bucketQuantile interpolates quantile q in cumulative bucket counts.
func bucketQuantile(cum []float64, q float64) float64 {
	total := cum[len(cum)-1]
	if total == 0 {
		return 0
	}
	rank, lo, prev := q*total, 0.0, 0.0
	for i, c := range cum[:len(cum)-1] {
		if c >= rank {
			return lo + (metricsLatencyBounds[i]-lo)*(rank-prev)/max(1, c-prev)
		}
		lo, prev = metricsLatencyBounds[i], c
	}
	return lo
}

// stillFrame is the public-domain astronaut still as a 640x480 frame.
func stillFrame(b *testing.B) *models.Frame {
	img := visiontest.LoadBGR(b, "astronaut.png", 640, 480)
	defer img.Close()
	return vision.FrameFromImage(img)
}

// BenchmarkSessionStart is what opening and ending a live session costs the
// process, without frames: the session, its detectors and its analysis
// goroutine's frame analyser (the server's factory: shared landmark model).
// cpu-ms/op is the process's CPU per session.
func BenchmarkSessionStart(b *testing.B) {
	_, newAnalyzer := visionFactory(b)
	e := New(Config{NewAnalyzer: newAnalyzer, Detectors: true, Logger: quietLogger(), Gate: NewGate(runtime.NumCPU())})
	e.Open(0, nil).finish(models.EndCompleted, time.Now()) // the first session loads what is shared
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := e.Open(int64(i+1), nil)
		s.finish(models.EndCompleted, time.Now())
		<-s.done // the analysis goroutine made its analyser and ended
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
