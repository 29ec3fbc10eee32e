package faceid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

// withEXIF inserts an APP1 EXIF segment with an Orientation tag (and a
// marker string standing for GPS data) after a JPEG's SOI marker.
func withEXIF(t *testing.T, jpg []byte, orientation uint16) []byte {
	t.Helper()
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	_ = binary.Write(&tiff, binary.BigEndian, uint32(8)) // IFD0 offset
	_ = binary.Write(&tiff, binary.BigEndian, uint16(1)) // one entry
	_ = binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3})
	_ = binary.Write(&tiff, binary.BigEndian, uint32(1))
	_ = binary.Write(&tiff, binary.BigEndian, []uint16{orientation, 0})
	_ = binary.Write(&tiff, binary.BigEndian, uint32(0))
	tiff.WriteString("GPS-SECRET-LOCATION")
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG signature and an IHDR chunk declaring w x h (no data).
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodePhotoRejects(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 32, 32))
	var smallPNG bytes.Buffer
	_ = png.Encode(&smallPNG, small)
	good := encodeJPEG(t, image.NewRGBA(image.Rect(0, 0, 200, 120)))
	for name, data := range map[string][]byte{
		"empty":              nil,
		"GIF":                []byte("GIF89a\x01\x00\x01\x00"),
		"HTML":               []byte("<html><script>alert(1)</script>"),
		"too many bytes":     append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, MaxPhotoBytes)...),
		"truncated JPEG":     good[:len(good)/2],
		"too small":          smallPNG.Bytes(),
		"PNG bomb header":    pngHeader(100000, 100000),
		"PNG too many px":    pngHeader(5999, 5999),
		"PNG header no data": pngHeader(640, 480),
	} {
		if _, err := DecodePhoto(data); !errors.Is(err, ErrPhoto) {
			t.Errorf("%s: %v, want ErrPhoto", name, err)
		}
	}
}

// TestDecodePhotoOrientationAndMetadata: a phone JPEG stored sideways with
// EXIF orientation 6 comes out upright, and the stored re-encoding has no
// EXIF block.
func TestDecodePhotoOrientationAndMetadata(t *testing.T) {
	// 200 wide, 100 high, red on the left half: orientation 6 means "rotate
	// 90° clockwise to display", so upright it is 100 wide, red on top.
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			c := color.RGBA{0, 0, 255, 255}
			if x < 100 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	data := withEXIF(t, encodeJPEG(t, img), 6)
	if exifOrientation(data) != 6 {
		t.Fatal("test EXIF not readable")
	}
	p, err := DecodePhoto(data)
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Image.Bounds(); b.Dx() != 100 || b.Dy() != 200 {
		t.Fatalf("upright size %v, want 100x200", b)
	}
	top, bottom := p.Image.RGBAAt(50, 20), p.Image.RGBAAt(50, 180)
	if top.R < 200 || bottom.B < 200 {
		t.Errorf("orientation not applied: top %v bottom %v", top, bottom)
	}
	if bytes.Contains(p.JPEG, []byte("Exif")) || bytes.Contains(p.JPEG, []byte("GPS-SECRET")) || p.Format != "jpeg" {
		t.Error("metadata kept in the stored photo")
	}
	// A real photo with its embedded metadata (the White House notice).
	raw, err := os.ReadFile(filepath.Join(visiontest.FacesDir, "obama.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	p, err = DecodePhoto(raw)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.JPEG, []byte("Pete Souza")) || !bytes.Contains(raw, []byte("Pete Souza")) {
		t.Error("the photo's embedded metadata survived re-encoding")
	}
}

// FuzzDecodePhoto: arbitrary uploads never panic, and anything accepted is
// within the limits.
func FuzzDecodePhoto(f *testing.F) {
	f.Add(pngHeader(64, 64))
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	f.Add(b.Bytes())
	f.Add(withEXIF(&testing.T{}, b.Bytes(), 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePhoto(data)
		if err != nil {
			return
		}
		if s := p.Image.Bounds().Size(); s.X > MaxPhotoSide || s.Y > MaxPhotoSide || s.X < MinPhotoSide || s.Y < MinPhotoSide {
			t.Fatalf("accepted %v", s)
		}
	})
}

// TestDecodePhotoShrinksLargePhotos: a photo above MaxStoredSide is stored
// shrunk, keeping its aspect ratio.
func TestDecodePhotoShrinksLargePhotos(t *testing.T) {
	p, err := DecodePhoto(encodeJPEG(t, image.NewRGBA(image.Rect(0, 0, 4000, 3000))))
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Image.Bounds(); b.Dx() != MaxStoredSide || b.Dy() != MaxStoredSide*3/4 {
		t.Fatalf("stored %v", b)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.JPEG))
	if err != nil || cfg.Width != MaxStoredSide {
		t.Fatalf("stored JPEG %+v %v", cfg, err)
	}
}
