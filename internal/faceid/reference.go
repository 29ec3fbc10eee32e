package faceid

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
)

// maxPhotoAnalysisSide is the longest side a reference photo is shrunk to
// before the face search (an ID scan at 6000 px would only slow the
// cascade; the face stays far above the gate's size).
const maxPhotoAnalysisSide = 1280

// DescribePhoto finds the face of a reference photo (vision's detector and
// landmarks with vcfg; set vcfg.Landmarker to share the loaded model) and
// embeds it with the live gate's size and pose limits (no blur limit: a
// scanned ID photo is soft). ErrNoFace (safe to show) when no usable face
// is found.
func (m *Model) DescribePhoto(p *Photo, vcfg vision.Config) (Sample, error) {
	b := p.Image.Bounds()
	rgba, err := gocv.NewMatFromBytes(b.Dy(), b.Dx(), gocv.MatTypeCV8UC4, p.Image.Pix)
	if err != nil {
		return Sample{}, fmt.Errorf("faceid: reference photo: %w", err)
	}
	defer rgba.Close()
	bgr := gocv.NewMat()
	defer bgr.Close()
	gocv.CvtColor(rgba, &bgr, gocv.ColorRGBAToBGR)
	if s := max(b.Dx(), b.Dy()); s > maxPhotoAnalysisSide {
		k := float64(maxPhotoAnalysisSide) / float64(s)
		gocv.Resize(bgr, &bgr, image.Pt(int(float64(b.Dx())*k), int(float64(b.Dy())*k)), 0, 0, gocv.InterpolationArea)
	}
	f := vision.FrameFromImage(bgr)
	if f == nil {
		return Sample{}, fmt.Errorf("%w in the reference photo", ErrNoFace)
	}
	an, err := vision.NewAnalyzer(vcfg)
	if err != nil {
		return Sample{}, fmt.Errorf("faceid: %w", err)
	}
	defer an.Close()
	o, err := an.Measure(f)
	if err != nil {
		return Sample{}, fmt.Errorf("faceid: reference photo: %w", err)
	}
	s, why, err := m.Describe(f, &o, Gate{MinSharpness: 1e-9})
	if err != nil {
		return Sample{}, err
	}
	if why != "" {
		return Sample{}, fmt.Errorf("%w in the reference photo (%s)", ErrNoFace, why)
	}
	return s, nil
}
