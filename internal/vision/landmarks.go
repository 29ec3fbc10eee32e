package vision

// The dlib link flags are spelled out instead of `#cgo pkg-config: dlib-1`:
// Debian's dlib-1.pc names /usr/lib/x86_64-linux-gnu/libblas.so and
// liblapack.so, which exist only with libblas-dev/liblapack-dev installed.
// The dlib headers' inline matrix code needs BLAS/LAPACK symbols, so the
// runtime libraries are linked by soname.

// #cgo LDFLAGS: -ldlib -lpthread -l:liblapack.so.3 -l:libblas.so.3
// #cgo CXXFLAGS: -std=c++14 -O3
// #cgo pkg-config: opencv4
// #include <stdlib.h>
// #include "dlib_wrapper.h"
// #include "cascade_check.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// DefaultLandmarkModel is the dlib 68-point shape predictor shipped by the
// Debian package libdlib-data.
const DefaultLandmarkModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

// NumLandmarks is the number of points of the iBUG 300-W markup that the
// landmark model predicts (0-based: jaw 0-16, brows 17-26, nose 27-35,
// eyes 36-47, mouth 48-67).
const NumLandmarks = 68

// Landmarker fits the 68-point dlib shape predictor inside a face box.
//
// A Landmarker is immutable once loaded: Fit may be called from any number of
// goroutines at once (dlib's regression-tree cascade only reads the model; all
// per-call state lives on the C++ stack). Load it once per process with
// LoadLandmarker and share it.
type Landmarker struct {
	path string
	mean [NumLandmarks][2]float64 // mean shape, box-normalised
	mu   sync.RWMutex             // guards p against Close during Fit
	p    C.lc_predictor
}

var (
	landmarkersMu sync.Mutex
	landmarkers   = map[string]*Landmarker{}
)

// LoadLandmarker returns the process-wide Landmarker for the model at path
// (DefaultLandmarkModel when path is empty), loading it on first use. The
// model is about 100 MB on disk and +69 MB RSS, and loads in 0.6-1 s; later
// calls with the same path return the same instance. Shared instances must
// not be closed.
func LoadLandmarker(path string) (*Landmarker, error) {
	if path == "" {
		path = DefaultLandmarkModel
	}
	landmarkersMu.Lock()
	defer landmarkersMu.Unlock()
	if lm, ok := landmarkers[path]; ok {
		return lm, nil
	}
	lm, err := NewLandmarker(path)
	if err != nil {
		return nil, err
	}
	landmarkers[path] = lm
	return lm, nil
}

// NewLandmarker loads a private, closable Landmarker from path. Prefer
// LoadLandmarker, which shares one instance per model file.
func NewLandmarker(path string) (*Landmarker, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("vision: landmark model %q: %w (install libdlib-data or set the model path)", path, err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	p := C.lc_predictor_load(cpath, &cerr)
	if p == nil {
		return nil, fmt.Errorf("vision: landmark model %q: %s", path, takeCError(cerr))
	}
	if n := int(C.lc_predictor_parts(p)); n != NumLandmarks {
		C.lc_predictor_free(p)
		return nil, fmt.Errorf("vision: landmark model %q predicts %d points, want %d", path, n, NumLandmarks)
	}
	lm := &Landmarker{path: path, p: p}
	var ms [2 * NumLandmarks]C.float
	if C.lc_predictor_mean_shape(p, &ms[0], C.int(NumLandmarks)) != NumLandmarks {
		C.lc_predictor_free(p)
		return nil, fmt.Errorf("vision: landmark model %q: bad mean shape", path)
	}
	for i := range lm.mean {
		lm.mean[i] = [2]float64{float64(ms[2*i]), float64(ms[2*i+1])}
	}
	return lm, nil
}

// Close frees a Landmarker made by NewLandmarker. It is idempotent. Do not
// close an instance returned by LoadLandmarker.
func (l *Landmarker) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		C.lc_predictor_free(l.p)
		l.p = nil
	}
	return nil
}

// Path returns the model file the Landmarker was loaded from.
func (l *Landmarker) Path() string { return l.path }

// errLandmarkerClosed is returned by Fit after Close.
var errLandmarkerClosed = errors.New("vision: landmarker is closed")

// Fit predicts the 68 landmarks of the face in box on an 8-bit grey image of
// width x height pixels whose rows are stride bytes apart (gray is read in
// place, not copied). box should be a face box as dlib's detector draws it
// (LandmarkBox converts a cascade box); points are in pixel coordinates of
// gray, sub-pixel.
func (l *Landmarker) Fit(gray []byte, width, height, stride int, box image.Rectangle) ([NumLandmarks][2]float32, error) {
	var pts [NumLandmarks][2]float32
	if width <= 0 || height <= 0 || stride < width || len(gray) < (height-1)*stride+width {
		return pts, fmt.Errorf("vision: landmarks: bad image %dx%d stride %d len %d", width, height, stride, len(gray))
	}
	if box.Dx() < 8 || box.Dy() < 8 {
		return pts, fmt.Errorf("vision: landmarks: face box too small (%dx%d)", box.Dx(), box.Dy())
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.p == nil {
		return pts, errLandmarkerClosed
	}
	var out [2 * NumLandmarks]C.float
	var cerr *C.char
	n := C.lc_predictor_run(l.p, (*C.uchar)(unsafe.Pointer(&gray[0])), C.int(width), C.int(height), C.int(stride),
		C.long(box.Min.X), C.long(box.Min.Y), C.long(box.Max.X-1), C.long(box.Max.Y-1),
		&out[0], C.int(NumLandmarks), &cerr)
	runtime.KeepAlive(gray)
	if n < 0 {
		return pts, fmt.Errorf("vision: landmarks: %s", takeCError(cerr))
	}
	if int(n) != NumLandmarks {
		return pts, fmt.Errorf("vision: landmarks: model returned %d points", int(n))
	}
	for i := range pts {
		pts[i][0] = float32(out[2*i])
		pts[i][1] = float32(out[2*i+1])
	}
	return pts, nil
}

// referenceFit fits the model at path with dlib's own shape_predictor, which
// rounds the points to whole pixels; Fit must agree with it (the tests check).
// It loads the model on every call: for tests only.
func referenceFit(path string, gray []byte, width, height, stride int, box image.Rectangle) ([NumLandmarks][2]int, error) {
	var pts [NumLandmarks][2]int
	var out [2 * NumLandmarks]C.long
	var cerr *C.char
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	n := C.lc_reference_run(cpath, (*C.uchar)(unsafe.Pointer(&gray[0])), C.int(width), C.int(height), C.int(stride),
		C.long(box.Min.X), C.long(box.Min.Y), C.long(box.Max.X-1), C.long(box.Max.Y-1), &out[0], C.int(NumLandmarks), &cerr)
	runtime.KeepAlive(gray)
	if n < 0 {
		return pts, fmt.Errorf("vision: reference landmarks: %s", takeCError(cerr))
	}
	if int(n) != NumLandmarks {
		return pts, fmt.Errorf("vision: reference landmarks: model returned %d points", int(n))
	}
	for i := range pts {
		pts[i] = [2]int{int(out[2*i]), int(out[2*i+1])}
	}
	return pts, nil
}

// OpenCV's own thread pool splits each cascade scan over the cores, which the
// server already fills with one analysis per core (and eval with one item per
// core), so its threads would compete with them; `make bench` measured the
// pipeline with one thread (a lone detection is ~1.7x faster with two).
// It is set to one thread unless OPENCV_FOR_THREADS_NUM says otherwise.
func init() {
	if os.Getenv("OPENCV_FOR_THREADS_NUM") == "" {
		C.lc_cv_set_threads(1)
	}
}

// checkCascade loads a cascade file in a throw-away classifier with C++
// exceptions caught, so that a corrupt file gives an error instead of
// aborting the process inside gocv.
func checkCascade(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	if C.lc_cascade_check(cpath, &cerr) == 0 {
		return errors.New(takeCError(cerr))
	}
	return nil
}

// takeCError converts and frees a malloc'd C error string.
func takeCError(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}

// LandmarkBox maps a FaceDetector box to the kind of box the dlib model was
// trained with (dlib HOG detector boxes). Measured on the test stills: the
// Haar alt2 box has about the same width and sits about 0.11 of its width
// higher.
func LandmarkBox(det image.Rectangle) image.Rectangle {
	w := det.Dx()
	dy := int(math.Round(0.11 * float64(w)))
	return det.Add(image.Pt(0, dy))
}

// boxFromLandmarks returns the dlib-style face box that fits the points:
// on dlib's own detections the box is 1.05 times as wide as the landmarks'
// bounding box and centred 0.05 of that width above their centroid.
func boxFromLandmarks(p *[NumLandmarks][2]float32) image.Rectangle {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	var cx, cy float64
	for _, q := range p {
		x, y := float64(q[0]), float64(q[1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
		cx += x
		cy += y
	}
	cx /= NumLandmarks
	cy /= NumLandmarks
	lw := math.Max(maxX-minX, maxY-minY)
	half := 1.05 * lw / 2
	cy -= 0.05 * lw
	return image.Rect(int(math.Round(cx-half)), int(math.Round(cy-half)), int(math.Round(cx+half)), int(math.Round(cy+half)))
}

// shapeResidual measures how far the points are from the model's mean shape
// after the best similarity transform (Procrustes), as an RMS distance in
// units of the mean shape's outer eye-corner distance. A clean frontal fit
// is about 0.05-0.1, a 30° head turn adds about 0.1, and a fit over a hand or
// a patch is often above 0.25.
func (l *Landmarker) shapeResidual(p *[NumLandmarks][2]float32) float64 {
	var mx, my, px, py float64
	for i := range p {
		mx += l.mean[i][0]
		my += l.mean[i][1]
		px += float64(p[i][0])
		py += float64(p[i][1])
	}
	mx /= NumLandmarks
	my /= NumLandmarks
	px /= NumLandmarks
	py /= NumLandmarks
	// Least-squares similarity (a, b) mapping mean shape → points.
	var sxx, sab, sabp float64
	for i := range p {
		ax, ay := l.mean[i][0]-mx, l.mean[i][1]-my
		bx, by := float64(p[i][0])-px, float64(p[i][1])-py
		sxx += ax*ax + ay*ay
		sab += ax*bx + ay*by
		sabp += ax*by - ay*bx
	}
	if sxx == 0 {
		return math.Inf(1)
	}
	a, b := sab/sxx, sabp/sxx
	scale := math.Hypot(a, b)
	if scale == 0 {
		return math.Inf(1)
	}
	var ss float64
	for i := range p {
		ax, ay := l.mean[i][0]-mx, l.mean[i][1]-my
		ex := a*ax - b*ay - (float64(p[i][0]) - px)
		ey := b*ax + a*ay - (float64(p[i][1]) - py)
		ss += ex*ex + ey*ey
	}
	eye := math.Hypot(l.mean[45][0]-l.mean[36][0], l.mean[45][1]-l.mean[36][1])
	return math.Sqrt(ss/NumLandmarks) / (scale * eye)
}
