package faceid

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// fileEpoch is the capture time of a clip's first frame (as
// analysis.FileEpoch, which this package cannot import: the analysis
// imports faceid).
var fileEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ivfClip reads a VP8 IVF clip (the devset's) frame by frame, with capture
// times start + the frame's timestamp, skipping undecodable frames as
// analysis.OpenVideo does.
type ivfClip struct {
	f     *os.File
	r     *media.IVFReader
	dec   *media.VP8Decoder
	start time.Time
	tb    float64
	last  *models.Frame
}

func openClip(path string, start time.Time) (*ivfClip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := media.NewIVFReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec, err := media.NewVP8Decoder()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &ivfClip{f: f, r: r, dec: dec, start: start, tb: 1.0 / 90000}
	if h := r.Header(); h.TimebaseDen > 0 && h.TimebaseNum > 0 {
		c.tb = float64(h.TimebaseNum) / float64(h.TimebaseDen)
	}
	return c, nil
}

func (c *ivfClip) Next() (*models.Frame, error) {
	if c.last != nil {
		c.dec.Release(c.last)
		c.last = nil
	}
	for {
		data, pts, err := c.r.NextFrame()
		if err != nil {
			return nil, err
		}
		fr, err := c.dec.Decode(data, c.start.Add(time.Duration(float64(pts)*c.tb*float64(time.Second))))
		switch {
		case err == nil:
			c.last = fr
			return fr, nil
		case errors.Is(err, media.ErrNoFrame), errors.Is(err, media.ErrNeedKeyframe), errors.Is(err, media.ErrCorrupt):
		default:
			return nil, err
		}
	}
}

func (c *ivfClip) Close() error {
	c.dec.Close()
	return c.f.Close()
}
