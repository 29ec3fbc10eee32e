package analysis

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Feed hands a live session one decoded frame, as its video track would,
// and waits until it is analysed (for the tests of package analysis_test).
func Feed(t testing.TB, s *Session, f *models.Frame) {
	t.Helper()
	s.mu.Lock()
	n := s.decoded + 1
	s.mu.Unlock()
	s.frame(f, f.Capture)
	waitHandled(t, s, n)
}

// FeedAudio hands a live session decoded 48 kHz audio, as its audio track would.
func FeedAudio(s *Session, at time.Time, pcm []float32) { s.audioDecoded(at, pcm) }

// Finish summarises a session without storing it (a node that dies).
func Finish(s *Session, at time.Time) *Result { return s.finish(models.EndInterrupted, at) }
