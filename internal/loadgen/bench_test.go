package loadgen_test

import (
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

var (
	liveOnce   sync.Once
	liveMedia  *loadgen.Media
	liveFrames []*models.Frame
	liveErr    error
)

// decodedLoadgenVideo decodes the load generator's default video (what every
// simulated candidate sends) into owned frames, once per test binary.
func decodedLoadgenVideo(b *testing.B) (*loadgen.Media, []*models.Frame) {
	b.Helper()
	liveOnce.Do(func() {
		if liveMedia, liveErr = loadgen.LoadMedia("", "", apptest.Testdata("faces/astronaut.png")); liveErr != nil {
			return
		}
		dec, err := media.NewVP8Decoder()
		if err != nil {
			liveErr = err
			return
		}
		defer dec.Close()
		at := time.Unix(1700000000, 0)
		for _, vf := range liveMedia.Video {
			f, err := dec.Decode(vf.Data, at)
			if err != nil {
				liveErr = err
				return
			}
			c := *f
			c.Y, c.U, c.V = append([]byte(nil), f.Y...), append([]byte(nil), f.U...), append([]byte(nil), f.V...)
			dec.Release(f)
			liveFrames = append(liveFrames, &c)
			at = at.Add(vf.Duration)
		}
	})
	if liveErr != nil {
		b.Fatal(liveErr)
	}
	return liveMedia, liveFrames
}

// BenchmarkLiveStreamDecode is the floor's per-frame work on the loadgen stream:
// libvpx decode of every frame, including the copy into Go memory.
func BenchmarkLiveStreamDecode(b *testing.B) {
	m, _ := decodedLoadgenVideo(b)
	dec, err := media.NewVP8Decoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(m.Video)
		if k == 0 && i > 0 {
			b.StopTimer()
			dec.Close()
			if dec, err = media.NewVP8Decoder(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		f, err := dec.Decode(m.Video[k].Data, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		dec.Release(f)
	}
}

// serverAnalyzer is a vision analyser with the server's defaults and the
// shared landmark model, closed when the benchmark ends.
func serverAnalyzer(b *testing.B) *vision.Analyzer {
	b.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	lm, err := vision.LoadLandmarker(cfg.LandmarkModel)
	if err != nil {
		b.Skipf("landmark model: %v", err)
	}
	an, err := vision.NewAnalyzer(vision.Config{Landmarker: lm, Detector: vision.DetectorConfig{FrontalCascade: cfg.CascadePath}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { an.Close() })
	return an
}

// BenchmarkLiveStreamMeasure is one analysed frame of the loadgen stream, as the
// server analyses it between challenges (every second frame of 15 fps, one
// analyser per session, the landmark model shared), with the server's defaults.
func BenchmarkLiveStreamMeasure(b *testing.B) {
	_, frames := decodedLoadgenVideo(b)
	an := serverAnalyzer(b)
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := frames[(2*i)%len(frames)]
		o, err := an.Measure(f)
		if err != nil {
			b.Fatal(err)
		}
		if o.FacePresent {
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "face/frame")
}

// BenchmarkLiveStreamAnalyse is the whole analysis of one frame of the loadgen
// stream as the server's analysis goroutine does it between challenges: vision
// (every second frame of 15 fps, the rate of LIVECHECK_ANALYSIS_FPS=8) and the
// passive detectors (detect.Suite). Instruction counts of this benchmark
// (valgrind --tool=callgrind) are the per-frame figures in docs/BENCH.md.
func BenchmarkLiveStreamAnalyse(b *testing.B) { liveStreamAnalyse(b, 2) }

// BenchmarkLiveStreamAnalyse6FPS is the same at every third frame of 15 fps
// (5 analysed fps: LIVECHECK_ANALYSIS_FPS=6 before the rate was kept on
// average; now 6 takes every third and every second frame in turn).
func BenchmarkLiveStreamAnalyse6FPS(b *testing.B) { liveStreamAnalyse(b, 3) }

func liveStreamAnalyse(b *testing.B, stride int) {
	_, frames := decodedLoadgenVideo(b)
	an := serverAnalyzer(b)
	suite := detect.NewSuite(detect.Config{LiveCapture: true})
	at := time.Unix(1700000000, 0)
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := *frames[(stride*i)%len(frames)]
		f.Capture = at.Add(time.Duration(i) * time.Duration(stride) * time.Second / 15)
		o, err := an.Measure(&f)
		if err != nil {
			b.Fatal(err)
		}
		if o.FacePresent {
			found++
		}
		suite.Add(&f, o)
	}
	b.ReportMetric(float64(found)/float64(b.N), "face/frame")
}
