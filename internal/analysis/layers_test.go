package analysis

import (
	"bufio"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// layeredFrames re-encodes the face fixture with libvpx L1T3 temporal layers and packetises
// it with the descriptor's TID (media.VP8Packetizer), at 15 fps from FileEpoch. droppable[i]
// is what frame i's header says.
func layeredFrames(t *testing.T) (frames []rtpFrame, droppable []bool) {
	t.Helper()
	f, err := os.Open(faceIVF(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := media.NewIVFReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := media.NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var enc *media.VP8Encoder
	var pz media.VP8Packetizer
	var tr media.VP8DropTracker
	var seq uint16
	for i := 0; ; i++ {
		data, _, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pic, err := dec.Decode(data, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if enc == nil {
			if enc, err = media.NewVP8Encoder(media.VP8EncoderConfig{Width: pic.Width, Height: pic.Height, TemporalLayers: 3, Good: true}); err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
		}
		out, key, err := enc.Encode(pic, false)
		if err != nil {
			t.Fatal(err)
		}
		dec.Release(pic)
		tid, sync := enc.LastLayer()
		rf, err := media.ParseVP8Refresh(out)
		if err != nil {
			t.Fatal(err)
		}
		drop := tr.Droppable(rf)
		if !drop {
			tr.Decoded(rf, nil)
		}
		droppable = append(droppable, drop)
		if drop != (tid == 2 && !key) {
			t.Fatalf("frame %d: TID %d keyframe %v, header %+v", i, tid, key, rf)
		}
		fr := rtpFrame{arrival: FileEpoch.Add(time.Duration(i) * time.Second / 15)}
		pls := pz.Payloads(out, tid, sync, drop)
		for j, pl := range pls {
			fr.pkts = append(fr.pkts, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: uint32(i) * 6000, SSRC: 0x1234, Marker: j == len(pls)-1}, Payload: pl})
			seq++
		}
		frames = append(frames, fr)
	}
	return frames, droppable
}

// TestLayeredStreamSkipsOnlyOutsideWindows feeds a live session with a challenge (issued at
// 10 s, shown 300 ms later) an L1T3 stream through its real video pipe (assembler, header
// check, libvpx), until 1 s after the prompt: every frame from decodeAllMargin before the
// challenge's window on is decoded, and before it exactly the frames whose header says
// droppable (the top layer) are skipped — their
// capture times still reach the camera-off gaps (none here). With LIVECHECK_DECODE_SKIP=off
// (Config.DecodeAll) every frame is decoded.
func TestLayeredStreamSkipsOnlyOutsideWindows(t *testing.T) {
	one, droppable := layeredFrames(t)
	for _, decodeAll := range []bool{false, true} {
		clock := &stepClock{now: FileEpoch}
		cfg := Config{AnalysisFPS: 5.5, Logger: quietLogger(), Now: clock.Now, Gate: NewGate(1), DecodeAll: decodeAll,
			Challenges: ChallengeConfig{Enabled: true, Plan: challenge.PlanConfig{Count: 1, Duration: 2 * time.Hour, WarmUp: time.Hour,
				Kinds: []challenge.Kind{challenge.KindTurnHead, challenge.KindLook}}}}
		s := New(cfg).Open(1, &recordingOutlet{})
		clock.set(FileEpoch.Add(10 * time.Second))
		if err := s.ChallengeNow(); err != nil {
			t.Fatal(err)
		}
		run := s.ChallengeState().Running
		shown := run.Issued.Add(300 * time.Millisecond)
		s.Shown(run.ID, shown)
		th := challenge.DefaultThresholds()
		from, to := run.Issued.Add(-th.Baseline), shown.Add(time.Duration(run.DeadlineMS)*time.Millisecond+th.Grace)
		sink, err := s.Track(media.TrackInfo{Video: true, ClockRate: 90000, SSRC: 0x1234})
		if err != nil {
			t.Fatal(err)
		}
		const period = 4 * time.Second // the fixture: 60 frames
		// Up to 1 s after the prompt: the challenge is not verified meanwhile (its window
		// goes on), so the runner's window stays what it is while the frames are fed.
		end := shown.Add(time.Second)
		frames := loopFrames(one, period, int(end.Sub(FileEpoch)/period)+1)
		for len(frames) > 0 && frames[len(frames)-1].arrival.After(end) {
			frames = frames[:len(frames)-1]
		}
		inWindow, skippedOut, droppableOut := 0, 0, 0
		for i, fr := range frames {
			s.mu.Lock()
			before := s.decoded
			s.mu.Unlock()
			for _, p := range fr.pkts {
				sink.WriteRTP(p, fr.arrival)
			}
			var decoded bool
			waitFor(t, "the frame's decoding or skipping", func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				decoded = s.decoded > before
				return s.decoded+s.skipped == uint64(i+1)
			})
			drop := droppable[i%len(one)]
			// The window as the test computes it, and as the runner keeps it (Runner.NeedsFrame:
			// until the challenge is verified, to the latest deadline it can become).
			window := !fr.arrival.Before(from.Add(-decodeAllMargin)) && !fr.arrival.After(shown.Add(time.Second))
			runnerWindow := s.decodeAllAt(fr.arrival)
			if window && !runnerWindow {
				t.Fatalf("frame %d at %v: in the challenge's window but not in the runner's", i, fr.arrival.Sub(FileEpoch))
			}
			switch {
			case runnerWindow || decodeAll:
				if !decoded {
					t.Fatalf("decodeAll=%v: frame %d at %v (window %v..%v) was not decoded", decodeAll, i, fr.arrival.Sub(FileEpoch), from.Sub(FileEpoch), to.Sub(FileEpoch))
				}
				inWindow++
			case decoded == drop:
				t.Fatalf("frame %d at %v outside the window: decoded %v, droppable %v", i, fr.arrival.Sub(FileEpoch), decoded, drop)
			}
			if !decodeAll && fr.arrival.Before(from.Add(-decodeAllMargin)) && drop && decoded {
				t.Fatalf("frame %d at %v, before the window: a droppable frame decoded", i, fr.arrival.Sub(FileEpoch))
			}
			if !runnerWindow && drop {
				droppableOut++
				if !decoded {
					skippedOut++
				}
			}
		}
		sink.Close()
		s.mu.Lock()
		off := len(s.cameraOff)
		s.mu.Unlock()
		s.End(models.EndCompleted, clock.Now())
		t.Logf("decodeAll=%v: %d frames, %d around the window all decoded, %d of %d droppable outside skipped", decodeAll, len(frames), inWindow, skippedOut, droppableOut)
		if off != 0 {
			t.Errorf("skipped frames read as %d camera-off gaps", off)
		}
		if !decodeAll && (skippedOut == 0 || skippedOut != droppableOut) {
			t.Errorf("%d of %d droppable frames outside the window skipped", skippedOut, droppableOut)
		}
		if decodeAll && skippedOut != 0 {
			t.Errorf("DecodeAll: %d frames skipped", skippedOut)
		}
		if inWindow == 0 {
			t.Error("no frame around the window: the test does not test it")
		}
	}
}
