package vision

import (
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// checkFrame validates the plane sizes of an I420 frame. Chroma planes may be
// absent (nil), in which case colour measures are skipped.
func checkFrame(f *models.Frame) error {
	if f == nil {
		return fmt.Errorf("vision: nil frame: %w", models.ErrInvalid)
	}
	if f.Width < 16 || f.Height < 16 {
		return fmt.Errorf("vision: frame %dx%d too small: %w", f.Width, f.Height, models.ErrInvalid)
	}
	if len(f.Y) < f.Width*f.Height {
		return fmt.Errorf("vision: Y plane has %d bytes, want %d: %w", len(f.Y), f.Width*f.Height, models.ErrInvalid)
	}
	if hasChroma(f) {
		return nil
	}
	if len(f.U) != 0 || len(f.V) != 0 {
		c := (f.Width / 2) * (f.Height / 2)
		return fmt.Errorf("vision: chroma planes have %d/%d bytes, want %d: %w", len(f.U), len(f.V), c, models.ErrInvalid)
	}
	return nil
}

// hasChroma reports whether f carries complete U and V planes.
func hasChroma(f *models.Frame) bool {
	c := (f.Width / 2) * (f.Height / 2)
	return len(f.U) >= c && len(f.V) >= c
}

// grayView wraps the frame's Y plane as a CV_8UC1 Mat without copying. The
// Mat references f.Y: keep f alive and do not modify Y while the Mat is
// open; the caller must Close it.
func grayView(f *models.Frame) (gocv.Mat, error) {
	return gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8U, f.Y[:f.Width*f.Height])
}

// FrameFromImage converts a BGR (3-channel), BGRA (4-channel) or grey
// (1-channel) 8-bit image into a tightly packed I420 frame, for tests and the
// offline analyser. An odd last row or column is dropped (I420 needs even
// sizes). The colour conversion is OpenCV's BT.601 limited-range BGR→I420,
// the same matrix a VP8 decoder output is interpreted with. Capture, Seq and
// Keyframe are left zero. It returns nil for an empty or unsupported image.
func FrameFromImage(img gocv.Mat) *models.Frame {
	if img.Empty() || img.Type()&7 != gocv.MatTypeCV8U {
		return nil
	}
	w, h := img.Cols()&^1, img.Rows()&^1
	if w < 2 || h < 2 {
		return nil
	}
	src := img.Region(image.Rect(0, 0, w, h))
	defer src.Close()
	bgr := gocv.NewMat()
	defer bgr.Close()
	switch img.Channels() {
	case 1:
		gocv.CvtColor(src, &bgr, gocv.ColorGrayToBGR)
	case 3:
		src.CopyTo(&bgr)
	case 4:
		gocv.CvtColor(src, &bgr, gocv.ColorBGRAToBGR)
	default:
		return nil
	}
	yuv := gocv.NewMat()
	defer yuv.Close()
	gocv.CvtColor(bgr, &yuv, gocv.ColorBGRToYUVI420)
	data, err := yuv.DataPtrUint8()
	if err != nil || len(data) < w*h*3/2 {
		return nil
	}
	ny, nc := w*h, (w/2)*(h/2)
	buf := make([]byte, ny+2*nc)
	copy(buf, data[:ny+2*nc])
	return &models.Frame{Width: w, Height: h, Y: buf[:ny:ny], U: buf[ny : ny+nc : ny+nc], V: buf[ny+nc:]}
}

// FrameFromFile reads an image file (any format OpenCV decodes) into an I420
// frame at its own size (even-cropped). See FrameFromImage.
func FrameFromFile(path string) (*models.Frame, error) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return nil, fmt.Errorf("vision: cannot read image %q", path)
	}
	f := FrameFromImage(img)
	if f == nil {
		return nil, fmt.Errorf("vision: unsupported image %q", path)
	}
	return f, nil
}

// FrameToBGR converts an I420 frame to a new BGR Mat (the caller closes it).
// Frames without chroma planes come out grey.
func FrameToBGR(f *models.Frame) (gocv.Mat, error) {
	if err := checkFrame(f); err != nil {
		return gocv.NewMat(), err
	}
	return i420ToBGR(f, image.Rect(0, 0, f.Width&^1, f.Height&^1))
}

// i420ToBGR converts the crop r (even-aligned, inside the frame) of f to BGR.
func i420ToBGR(f *models.Frame, r image.Rectangle) (gocv.Mat, error) {
	w, h := r.Dx(), r.Dy()
	if w < 2 || h < 2 || w%2 != 0 || h%2 != 0 || r.Min.X%2 != 0 || r.Min.Y%2 != 0 {
		return gocv.NewMat(), errors.New("vision: bad I420 crop")
	}
	ny, nc := w*h, (w/2)*(h/2)
	buf := make([]byte, ny+2*nc)
	for y := 0; y < h; y++ {
		off := (r.Min.Y+y)*f.Width + r.Min.X
		copy(buf[y*w:(y+1)*w], f.Y[off:off+w])
	}
	cw, fcw := w/2, f.Width/2
	if hasChroma(f) {
		for y := 0; y < h/2; y++ {
			off := (r.Min.Y/2+y)*fcw + r.Min.X/2
			copy(buf[ny+y*cw:ny+(y+1)*cw], f.U[off:off+cw])
			copy(buf[ny+nc+y*cw:ny+nc+(y+1)*cw], f.V[off:off+cw])
		}
	} else {
		for i := ny; i < len(buf); i++ {
			buf[i] = 128
		}
	}
	yuv, err := gocv.NewMatFromBytes(h*3/2, w, gocv.MatTypeCV8U, buf)
	if err != nil {
		return gocv.NewMat(), err
	}
	defer yuv.Close()
	bgr := gocv.NewMat()
	gocv.CvtColor(yuv, &bgr, gocv.ColorYUVToBGRIYUV)
	return bgr, nil
}

// EncodeFaceJPEG encodes a JPEG of the face box r of f with a 25 % margin on
// every side (clipped to the frame), for evidence images. Only the crop is
// converted to BGR. quality is 1..100 (0 means 85).
func EncodeFaceJPEG(f *models.Frame, r models.Rect, quality int) ([]byte, error) {
	if err := checkFrame(f); err != nil {
		return nil, err
	}
	if r.Empty() {
		return nil, fmt.Errorf("vision: empty face box: %w", models.ErrInvalid)
	}
	if quality <= 0 {
		quality = 85
	}
	if quality > 100 {
		quality = 100
	}
	mx, my := r.W/4, r.H/4
	crop := image.Rect(r.X-mx, r.Y-my, r.X+r.W+mx, r.Y+r.H+my)
	crop = evenAlign(crop.Intersect(image.Rect(0, 0, f.Width&^1, f.Height&^1)))
	if crop.Dx() < 2 || crop.Dy() < 2 {
		return nil, fmt.Errorf("vision: face box %v outside the %dx%d frame: %w", r, f.Width, f.Height, models.ErrInvalid)
	}
	bgr, err := i420ToBGR(f, crop)
	if err != nil {
		return nil, err
	}
	defer bgr.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, bgr, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		return nil, fmt.Errorf("vision: jpeg encode: %w", err)
	}
	defer buf.Close()
	b := buf.GetBytes()
	if len(b) == 0 {
		return nil, errors.New("vision: jpeg encode produced no data")
	}
	return append([]byte(nil), b...), nil
}

// evenAlign shrinks r so that its corners lie on even coordinates.
func evenAlign(r image.Rectangle) image.Rectangle {
	r.Min.X = (r.Min.X + 1) &^ 1
	r.Min.Y = (r.Min.Y + 1) &^ 1
	r.Max.X &^= 1
	r.Max.Y &^= 1
	if r.Max.X < r.Min.X {
		r.Max.X = r.Min.X
	}
	if r.Max.Y < r.Min.Y {
		r.Max.Y = r.Min.Y
	}
	return r
}

// toRect converts an image.Rectangle to a models.Rect.
func toRect(r image.Rectangle) models.Rect {
	return models.Rect{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()}
}

// fromRect converts a models.Rect to an image.Rectangle.
func fromRect(r models.Rect) image.Rectangle {
	return image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H)
}
