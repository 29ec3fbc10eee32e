package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// dueFrames runs the analysis rate of a session at fps over n frames of a
// camera at camFPS and returns the indices of the frames it lets through;
// window says which frames belong to a challenge window, skip which frames
// the camera did not send.
func dueFrames(fps, camFPS float64, n int, window, skip func(i int) bool) []int {
	s := newSession(Config{AnalysisFPS: fps, Logger: quietLogger(), Now: func() time.Time { return FileEpoch }}.withDefaults(), 0, nil, false)
	var got []int
	for i := 0; i < n; i++ {
		if skip != nil && skip(i) {
			continue
		}
		t := FileEpoch.Add(time.Duration(float64(i) * float64(time.Second) / camFPS))
		if s.due(t, window != nil && window(i)) {
			got = append(got, i)
		}
	}
	return got
}

// TestRateKeepsAverage: the passive rate is the configured one on average.
// At 6 on a 15 fps camera the gap rule took every third frame (exactly 5 fps,
// so every frame lost in the mailbox put the interview under 5); the
// average rule takes every third and every second frame in turn.
func TestRateKeepsAverage(t *testing.T) {
	got := dueFrames(6, 15, 150, nil, nil)
	if len(got) != 60 {
		t.Fatalf("6 fps on a 15 fps camera over 10 s: %d frames analysed, want 60", len(got))
	}
	want := []int{0, 3, 5, 8, 10, 13, 15, 18, 20}
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("frames %v..., want %v...", got[:len(want)], want)
		}
	}
	for _, tc := range []struct {
		fps, cam float64
		want     int // frames over 10 s
	}{{5, 15, 50}, {5.5, 15, 55}, {8, 15, 80}, {12, 15, 120}, {6, 30, 60}, {8, 30, 80}, {6, 10, 60}, {12, 10, 100}} {
		if got := dueFrames(tc.fps, tc.cam, int(10*tc.cam), nil, nil); len(got) != tc.want {
			t.Errorf("%g fps on a %g fps camera over 10 s: %d frames analysed, want %d", tc.fps, tc.cam, len(got), tc.want)
		}
	}
}

// TestRateFileFrames: the recordings' rate takes every second frame of a
// 15 fps recording and every fourth of a 30 fps one, the frames the gap rule
// took at 8 (the dev set's evaluation stays the one measured).
func TestRateFileFrames(t *testing.T) {
	for _, tc := range []struct {
		cam  float64
		step int
	}{{15, 2}, {30, 4}} {
		got := dueFrames(DefaultFileFPS, tc.cam, int(10*tc.cam), nil, nil)
		for i, f := range got {
			if f != i*tc.step {
				t.Fatalf("%g fps recording: frame %d analysed as the %dth, want every %dth frame", tc.cam, f, i, tc.step)
			}
		}
		if len(got) != int(10*tc.cam)/tc.step {
			t.Fatalf("%g fps recording: %d frames analysed", tc.cam, len(got))
		}
	}
}

// TestRateNoBurst: after a pause the schedule does not catch up (one frame
// may follow at once, never a run of them), and a challenge window's frames
// are all taken and restart it.
func TestRateNoBurst(t *testing.T) {
	// 15 fps, frames 30..59 missing (2 s without video).
	got := dueFrames(6, 15, 120, nil, func(i int) bool { return i >= 30 && i < 60 })
	for k := 1; k < len(got); k++ {
		if got[k] >= 60 && got[k-1] >= 60 && k >= 2 && got[k]-got[k-1] == 1 && got[k-1]-got[k-2] == 1 {
			t.Fatalf("frames %v: a run of consecutive frames after the pause", got)
		}
	}
	n := 0
	for _, f := range got {
		if f >= 60 {
			n++
		}
	}
	if n > 25 { // 4 s at 6 fps = 24, plus the one the credit allows
		t.Fatalf("%d frames analysed in the 4 s after the pause, want at most 25: %v", n, got)
	}
	// Frames 30..44 are a challenge window: all taken; the schedule then goes on from the last.
	got = dueFrames(6, 15, 60, func(i int) bool { return i >= 30 && i < 45 }, nil)
	var in, after []int
	for _, f := range got {
		switch {
		case f >= 30 && f < 45:
			in = append(in, f)
		case f >= 45:
			after = append(after, f)
		}
	}
	if len(in) != 15 {
		t.Fatalf("challenge window: %d of 15 frames analysed", len(in))
	}
	if len(after) == 0 || after[0] != 47 {
		t.Fatalf("after the window (last frame 44): frames %v, want the next from 47 (1/6 s later)", after)
	}
}

// countingPicture counts the copies the session asks for.
type countingPicture struct{ copies int }

func (c *countingPicture) CopyPicture(dst *models.Frame) bool {
	c.copies++
	dst.Y, dst.U, dst.V = append(dst.Y[:0], 1), dst.U[:0], dst.V[:0]
	return true
}

// TestOnlyTakenFramesAreCopied: a live frame's picture is copied out of the
// decoder only when the analysis rate takes the frame, while the analysis
// keeps up (here: takes each frame at once); every frame is counted as
// decoded. When nothing takes the due frames, a skipped frame is copied only
// to refresh one waiting, at most maxRefreshes times per due frame.
func TestOnlyTakenFramesAreCopied(t *testing.T) {
	for _, keepUp := range []bool{true, false} {
		s := newSession(Config{AnalysisFPS: 5.5, Logger: quietLogger(), Now: func() time.Time { return FileEpoch }}.withDefaults(), 0, nil, false)
		pic := &countingPicture{}
		for i := 0; i < 60; i++ { // 4 s at 15 fps
			meta := models.Frame{Width: 640, Height: 480, Seq: uint64(i + 1), Capture: FileEpoch.Add(time.Duration(i) * time.Second / 15)}
			s.framePicture(&meta, pic, meta.Capture)
			if keepUp {
				s.queue.mu.Lock()
				n := len(s.queue.items)
				s.queue.mu.Unlock()
				if n > 0 {
					it, err := s.queue.get(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					s.queue.release(it)
					s.queue.idle()
				}
			}
		}
		s.mu.Lock()
		decoded, skipped := s.decoded, s.rateSkipped
		s.mu.Unlock()
		if decoded != 60 || skipped != 38 {
			t.Fatalf("keep up %v: decoded %d, skipped %d; want 60, 38 (5.5 fps over 4 s)", keepUp, decoded, skipped)
		}
		if keepUp && pic.copies != 22 {
			t.Fatalf("analysis keeping up: copied %d, want the 22 taken", pic.copies)
		}
		if !keepUp && (pic.copies <= 22 || pic.copies > 22+maxRefreshes*22) {
			t.Fatalf("nothing analysed: copied %d, want the 22 taken and up to %d refreshes", pic.copies, maxRefreshes*22)
		}
	}
}
