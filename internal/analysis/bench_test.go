package analysis

import (
	"syscall"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
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
	img := visiontest.LoadBGR(b, "astronaut.png", 640, 480)
	f := vision.FrameFromImage(img)
	img.Close()
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
				fr.Capture = FileEpoch.Add(time.Duration(i) * time.Second / DefaultFileFPS)
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
