package vision

import (
	"image"
	"math"
)

// Landmark exposure normalisation (finding 22). The shape predictor's features are
// differences of two pixels' intensities compared with thresholds learnt on faces of typical
// brightness; luma is reflectance times light, so a darker skin under the same lamp (albedo
// 0.4) has 0.4 of the differences and the regression stays nearer its mean (frontal) shape:
// a turned head measured 10–13° less than the same turn on the lighter skin. Before fitting,
// a face box whose mean luma is below LandmarkMinMean is scaled by LandmarkMinMean/mean (at
// most LandmarkMaxGain), as a camera metering on the face would expose it: normalised by the
// face's own brightness rather than the picture's. A face at or above it is fitted unchanged.
const (
	LandmarkMinMean = 128
	LandmarkMaxGain = 3
)

// FaceContrast returns the mean and standard deviation of the luma inside box (clipped to
// the image), sampled every second pixel of every second row.
func FaceContrast(img []byte, w, h int, box image.Rectangle) (mean, std float64) {
	b := box.Intersect(image.Rect(0, 0, w, h))
	var s, s2, n float64
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		row := img[y*w : y*w+w]
		for x := b.Min.X; x < b.Max.X; x += 2 {
			v := float64(row[x])
			s += v
			s2 += v * v
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	mean = s / n
	return mean, math.Sqrt(math.Max(0, s2/n-mean*mean))
}

// landmarkGain is the exposure gain for a face box of this mean luma (1: fit as it is).
func landmarkGain(mean float64) float64 {
	if mean >= LandmarkMinMean || mean <= 0 {
		return 1
	}
	return math.Min(LandmarkMaxGain, LandmarkMinMean/mean)
}

// exposeCrop copies the region r of img (w wide) into dst (r.Dx() wide), each pixel
// multiplied by gain and clamped (over-exposed as a camera would); it returns dst resized.
func exposeCrop(dst, img []byte, w int, r image.Rectangle, gain float64) []byte {
	cw, ch := r.Dx(), r.Dy()
	if cap(dst) < cw*ch {
		dst = make([]byte, cw*ch)
	}
	dst = dst[:cw*ch]
	var lut [256]byte
	for i := range lut {
		lut[i] = byte(math.Min(255, math.Round(float64(i)*gain)))
	}
	for y := 0; y < ch; y++ {
		src := img[(r.Min.Y+y)*w+r.Min.X : (r.Min.Y+y)*w+r.Max.X]
		out := dst[y*cw : (y+1)*cw]
		for x, v := range src {
			out[x] = lut[v]
		}
	}
	return dst
}
