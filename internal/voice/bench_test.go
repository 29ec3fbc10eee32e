package voice

import "testing"

// BenchmarkFeatures20ms measures the streaming cost of one 20 ms frame of read
// speech (VAD, and on speech frames the spectrum, pitch, cycles and envelope).
func BenchmarkFeatures20ms(b *testing.B) {
	benchFrames(b, load48(b, ljPath))
}

// benchFrames writes x's 20 ms frames, one an iteration (from the start again at the end), to
// one analyser: the streaming cost of a frame.
func benchFrames(b *testing.B, x []float32) {
	n := len(x) / FrameSize
	a := NewAnalyzer(timeZero)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % n
		a.Write(x[k*FrameSize : (k+1)*FrameSize])
	}
}

// BenchmarkSessionFeatures measures one second of audio: 50 frames through the
// analyser plus a Features() summary, on a session that keeps growing.
func BenchmarkSessionFeatures(b *testing.B) {
	x := load48(b, ljPath)
	secs := len(x) / SampleRate
	a := NewAnalyzer(timeZero)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % secs
		a.Write(x[k*SampleRate : (k+1)*SampleRate])
		_ = a.Features()
	}
}
