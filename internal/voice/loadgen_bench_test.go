package voice

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/loadgen"
)

// BenchmarkLoadgenVoice is one 20 ms frame of the load generator's synthetic
// voice (about half the frames speech), decimating every frame (eager) and
// only those the analysis reads (deferred), the two in turn.
func BenchmarkLoadgenVoice(b *testing.B) {
	pcm := loadgen.SyntheticVoice(10 * time.Second)
	x := Int16ToFloat32(nil, pcm.Samples)
	n := len(x) / FrameSize
	eagerAndDeferred(b, func(b *testing.B) {
		a := NewAnalyzer(timeZero)
		sp := 0
		for i := range b.N {
			k := i % n
			for _, f := range a.Write(x[k*FrameSize : (k+1)*FrameSize]) {
				if f.Speech {
					sp++
				}
			}
		}
		b.ReportMetric(float64(sp)/float64(b.N), "speech/frame")
	})
}
