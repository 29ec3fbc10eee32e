package media

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestPipelineDecodeMailboxAnalysis runs the intended per-track pipeline under -race: RTP packets →
// assembler → decoder (one goroutine) → mailbox → a slow analysis goroutine that releases frames.
func TestPipelineDecodeMailboxAnalysis(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	src := packetize(fx.frames, 1200, 500, 90000)
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	mb := NewMailbox(dec.Release)
	clock := NewClock(90000)
	base := time.Unix(1700000000, 0)
	clock.OnSenderReport(TimeToNTP(base), 90000)

	var wg sync.WaitGroup
	processed := make(chan struct{}, 1024)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var prev uint64
		for {
			f, err := mb.Get(context.Background())
			if err != nil {
				return
			}
			// Read every pixel: a race with the decoder reusing buffers would show here.
			var sum int
			for _, v := range f.Y {
				sum += int(v)
			}
			if sum == 0 || f.Seq <= prev || f.Width != 640 {
				t.Errorf("frame seq %d after %d, sum %d", f.Seq, prev, sum)
			}
			prev = f.Seq
			dec.Release(f)
			processed <- struct{}{}
		}
	}()

	asm := NewVP8Assembler(VP8AssemblerConfig{})
	decoded := 0
	for i, p := range flatten(src) {
		// Packets arrive 20 ms after capture plus 1 ms pacing per packet.
		arrival := base.Add(time.Duration(p.Timestamp-90000)*time.Second/90000 + 20*time.Millisecond + time.Duration(i%8)*time.Millisecond)
		frames, _ := asm.Push(p, arrival)
		for _, af := range frames {
			f, err := dec.Decode(af.Data, clock.CaptureTime(af.RTPTimestamp, af.FirstArrival))
			if err != nil {
				t.Fatal(err)
			}
			decoded++
			want := base.Add(time.Duration(af.RTPTimestamp-90000) * time.Second / 90000)
			if !f.Capture.Equal(want) {
				t.Fatalf("capture %v, want %v", f.Capture, want)
			}
			mb.Put(f)
		}
	}
	// Wait until the consumer has handled every frame that was not dropped, then stop it.
	analysed := 0
	for {
		if _, dropped := mb.Stats(); uint64(analysed)+dropped == uint64(decoded) {
			break
		}
		<-processed
		analysed++
	}
	mb.Close()
	wg.Wait()
	put, dropped := mb.Stats()
	if decoded != len(src) || put != uint64(decoded) || uint64(analysed)+dropped != put {
		t.Fatalf("decoded %d of %d, put %d, analysed %d, dropped %d", decoded, len(src), put, analysed, dropped)
	}
}
