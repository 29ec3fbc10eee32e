package vision

import (
	"image"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// FrameRegionToBGR converts the part r of an I420 frame to a new BGR Mat
// (the caller closes it): r is clipped to the frame and shrunk to even
// coordinates; only that part is converted. It also returns the region
// actually converted. Frames without chroma planes come out grey.
func FrameRegionToBGR(f *models.Frame, r image.Rectangle) (gocv.Mat, image.Rectangle, error) {
	if err := checkFrame(f); err != nil {
		return gocv.NewMat(), image.Rectangle{}, err
	}
	r = evenAlign(r.Intersect(image.Rect(0, 0, f.Width&^1, f.Height&^1)))
	m, err := i420ToBGR(f, r)
	return m, r, err
}
