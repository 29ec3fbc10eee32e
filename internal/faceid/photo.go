package faceid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"

	"gocv.io/x/gocv"
)

// Limits of reference photos (an ID document scan or a profile photo).
const (
	MaxPhotoBytes  = 10 << 20 // 10 MiB
	MaxPhotoSide   = 6000     // pixels
	MaxPhotoPixels = 16 << 20 // 16 megapixels (a phone photo has 12): 64 MB as RGBA
	MinPhotoSide   = 64
	// MaxStoredSide is the longest side of the stored re-encoding (and of
	// Photo.Image): larger photos are shrunk, the face stays far larger
	// than the recogniser's 150-pixel chip.
	MaxStoredSide = 2048
)

// ErrPhoto reports a reference photo that is not a JPEG or PNG within the
// limits. Its message is safe to show to the uploader.
var ErrPhoto = errors.New("faceid: unusable reference photo")

// Photo is a decoded reference photo: the upright image and a clean JPEG
// re-encoding of it (no EXIF, no GPS, no comments, no thumbnail) to store.
// Biometric data: never log it.
type Photo struct {
	Image  *image.RGBA
	JPEG   []byte
	Format string // "jpeg" or "png" (of the upload)
}

// DecodePhoto checks and decodes an uploaded reference photo. The format is
// recognised by its signature (JPEG or PNG only); the size, the declared
// width and height and their product are checked from the header before
// any pixel is decoded (a decompression bomb declares its size too), then
// Go's memory-safe decoders read it. A JPEG's EXIF orientation is applied,
// the photo is shrunk to MaxStoredSide, and the result is re-encoded, which
// drops every metadata block.
func DecodePhoto(data []byte) (*Photo, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrPhoto)
	}
	if len(data) > MaxPhotoBytes {
		return nil, fmt.Errorf("%w: the file has %d bytes, at most %d are accepted", ErrPhoto, len(data), MaxPhotoBytes)
	}
	var format string
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		format = "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		format = "png"
	default:
		return nil, fmt.Errorf("%w: only JPEG and PNG photos are accepted", ErrPhoto)
	}
	var cfg image.Config
	var err error
	if format == "jpeg" {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the %s header is damaged", ErrPhoto, format)
	}
	w, h := cfg.Width, cfg.Height
	switch {
	case w < MinPhotoSide || h < MinPhotoSide:
		return nil, fmt.Errorf("%w: %dx%d pixels is too small (at least %d on each side)", ErrPhoto, w, h, MinPhotoSide)
	case w > MaxPhotoSide || h > MaxPhotoSide || w*h > MaxPhotoPixels:
		return nil, fmt.Errorf("%w: %dx%d pixels is too large (at most %d on a side, %d megapixels)", ErrPhoto, w, h, MaxPhotoSide, MaxPhotoPixels>>20)
	}
	var img image.Image
	if format == "jpeg" {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the %s data is damaged", ErrPhoto, format)
	}
	orient := 1
	if format == "jpeg" {
		orient = exifOrientation(data)
	}
	rgba := upright(img, orient)
	if b := rgba.Bounds(); max(b.Dx(), b.Dy()) > MaxStoredSide {
		if rgba, err = shrink(rgba, MaxStoredSide); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, rgba, &jpeg.Options{Quality: 92}); err != nil {
		return nil, fmt.Errorf("faceid: re-encode reference photo: %w", err)
	}
	return &Photo{Image: rgba, JPEG: out.Bytes(), Format: format}, nil
}

// shrink scales img down (area averaging) so that its longest side is side.
func shrink(img *image.RGBA, side int) (*image.RGBA, error) {
	b := img.Bounds()
	src, err := gocv.NewMatFromBytes(b.Dy(), b.Dx(), gocv.MatTypeCV8UC4, img.Pix)
	if err != nil {
		return nil, fmt.Errorf("faceid: shrink reference photo: %w", err)
	}
	defer src.Close()
	k := float64(side) / float64(max(b.Dx(), b.Dy()))
	w, h := max(1, int(float64(b.Dx())*k)), max(1, int(float64(b.Dy())*k))
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Resize(src, &dst, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	px, err := dst.DataPtrUint8()
	if err != nil || len(px) < w*h*4 {
		return nil, fmt.Errorf("faceid: shrink reference photo: %v", err)
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	copy(out.Pix, px)
	return out, nil
}

// upright draws img into a new RGBA image with the EXIF orientation o
// (1–8) applied.
func upright(img image.Image, o int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	if o < 2 || o > 8 {
		return src
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to be upright
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to be upright
				dx, dy = y, w-1-x
			}
			si, di := src.PixOffset(x, y), dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// exifOrientation reads the Orientation tag (0x0112) of a JPEG's EXIF
// block; 1 (upright) when there is none or it is malformed. Every offset is
// bounds-checked.
func exifOrientation(data []byte) int {
	p := 2
	for p+4 <= len(data) && data[p] == 0xFF {
		marker := data[p+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 14 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}
