package media_test

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// Example_videoTrack shows the per-track video loop: one goroutine reads RTP, assembles and
// decodes every frame (VP8 needs all of them) and hands the newest frame to one analysis
// goroutine through a latest-wins mailbox. readRTP stands for pion's TrackRemote.ReadRTP and
// sendPLI for writing an rtcp.PictureLossIndication; the RTCP reader goroutine calls
// clock.HandleRTCP with the track's SSRC.
func Example_videoTrack() {
	var (
		readRTP  func() (*rtp.Packet, error)
		sendPLI  func()
		analyse  func(*models.Frame)
		ctx      = context.Background()
		clock    = media.NewClock(90000)
		asm      = media.NewVP8Assembler(media.VP8AssemblerConfig{})
		limiter  = media.NewPLILimiter(0, nil)
		dec, err = media.NewVP8Decoder()
	)
	if err != nil || readRTP == nil {
		return // (the example has no real track)
	}
	defer dec.Close()
	mb := media.NewMailbox(dec.Release)
	defer mb.Close()

	go func() { // analysis goroutine
		for {
			f, err := mb.Get(ctx)
			if err != nil {
				return
			}
			analyse(f)
			dec.Release(f)
		}
	}()

	for {
		pkt, err := readRTP()
		if err != nil {
			return
		}
		frames, needKey := asm.Push(pkt, time.Now())
		for _, af := range frames {
			f, err := dec.Decode(af.Data, clock.CaptureTime(af.RTPTimestamp, af.FirstArrival))
			switch {
			case err == nil:
				mb.Put(f)
			case errors.Is(err, media.ErrNoFrame):
			default:
				slog.Warn("vp8 decode", "err", err)
				needKey = true
			}
		}
		if needKey && limiter.Allow() {
			sendPLI()
		}
	}
}
