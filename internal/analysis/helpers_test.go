package analysis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
)

// visionFactory loads the landmark model (shared) and returns a per-session
// analyser factory.
func visionFactory(t testing.TB) (vision.Config, func() (FrameAnalyzer, error)) {
	t.Helper()
	lm, err := vision.LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	vcfg := vision.Config{Landmarker: lm}
	return vcfg, func() (FrameAnalyzer, error) { return vision.NewAnalyzer(vcfg) }
}

// rtpFrame is one VP8 frame of a recording as the packets a browser sends,
// with the arrival time the file's timing gives it.
type rtpFrame struct {
	arrival time.Time
	pkts    []*rtp.Packet
}

// packetizeIVF reads an IVF file into RTP packets (pion's VP8 payloader, 90
// kHz timestamps) arriving at FileEpoch + the frame's timestamp, exactly the
// capture times the offline reader gives the same frames.
func packetizeIVF(t testing.TB, path string) []rtpFrame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := media.NewIVFReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	tb := float64(h.TimebaseNum) / float64(h.TimebaseDen)
	p := &codecs.VP8Payloader{EnablePictureID: true}
	var out []rtpFrame
	var seq uint16
	for {
		data, pts, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		at := FileEpoch.Add(time.Duration(float64(pts) * tb * float64(time.Second)))
		ts := uint32(math.Round(float64(pts) * tb * 90000))
		payloads := p.Payload(1200, data)
		fr := rtpFrame{arrival: at}
		for i, pl := range payloads {
			fr.pkts = append(fr.pkts, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: ts, SSRC: 0x1234, Marker: i == len(payloads)-1}, Payload: append([]byte(nil), pl...)})
			seq++
		}
		out = append(out, fr)
	}
}

// waitHandled waits until the live session's analysis goroutine has taken
// (analysed or skipped by rate) every one of the n frames decoded so far.
func waitHandled(t testing.TB, s *Session, n uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.mu.Lock()
		done := s.decoded == n && s.analysed+s.rateSkipped == n
		got := fmt.Sprintf("decoded %d, analysed %d, skipped %d", s.decoded, s.analysed, s.rateSkipped)
		s.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("frame %d not handled: %s", n, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
