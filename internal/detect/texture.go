package detect

import (
	"fmt"
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// textureDetector compares the fine texture (detail plus sensor noise) of the
// face with that of its surroundings. A swapped or generated face is rendered
// at the model's resolution and blended in, so it is smoother than the skin,
// hair and background the camera recorded around it.
//
// Per frame: the Laplacian energy of 8x8 blocks over the inner face, a ring
// around the face (1.15 to 1.8 face boxes) and the far background; the face
// level is the 35th percentile of its blocks (the flat skin), the
// surroundings' level the 35th percentile of theirs. Clipped blocks (black
// padding, blown highlights) do not count. The measure is the log ratio
// face/surroundings, against the smaller of ring and far so that a blurred
// background (a shallow depth of field) cannot make a real face look too
// smooth. Value: median log ratio; negative means a smoother face.
type textureDetector struct {
	ratios  []float64 // per frame log ratio in the current window
	all     []float64 // per-frame ratios over the session (bounded)
	scratch []float64
}

func newTextureDetector() *textureDetector { return &textureDetector{} }

func (d *textureDetector) kind() string { return KindTexture }

const textureEps = 1.0 // Laplacian units: keeps ratios of near-flat regions finite

func (d *textureDetector) add(fc *frameCtx) {
	if !fc.usable() {
		return
	}
	var nf, nr, nb float64
	var cf, cr, cb int
	nf, cf, d.scratch = lapQuantile(fc.faceBlocks, 0.35, d.scratch)
	nr, cr, d.scratch = lapQuantile(fc.ringBlocks, 0.35, d.scratch)
	nb, cb, d.scratch = lapQuantile(fc.farBlocks, 0.35, d.scratch)
	if cf < 8 || (cr < 6 && cb < 6) {
		return
	}
	ref := math.Inf(1)
	if cr >= 6 {
		ref = nr
	}
	if cb >= 6 && nb < ref {
		ref = nb
	}
	r := math.Log((nf + textureEps) / (ref + textureEps))
	d.ratios = append(d.ratios, r)
	if len(d.all) < maxSessionSamples {
		d.all = append(d.all, r)
	}
}

// maxSessionSamples bounds per-frame session buffers (about 2 h at 8 fps).
const maxSessionSamples = 60000

// Texture thresholds (log ratio face/surroundings).
const (
	textureMid   = -0.45 // sigmoid midpoint: face ~36 % smoother
	textureWidth = 0.12
)

func (d *textureDetector) score() (windowScore, bool) {
	if len(d.ratios) < 3 {
		return windowScore{}, false
	}
	m := dsp.Median(d.ratios)
	return windowScore{
		Score:      sigmoid(-m, -textureMid, textureWidth),
		Confidence: 0.8 * saturate(float64(len(d.ratios)), 8),
		Value:      m,
	}, true
}

func (d *textureDetector) reset() { d.ratios = d.ratios[:0] }

func (d *textureDetector) signal(ws []Window) models.Signal {
	score, conf, top, flagged := aggregate(ws, 0.7)
	m := dsp.Median(d.all)
	sg := models.Signal{Score: score, Confidence: conf, Value: m, At: top.From}
	switch {
	case len(ws) == 0:
		sg.Reason = "face texture not measured (no usable face)"
	case score >= 0.5:
		sg.Reason = fmt.Sprintf("face is %.0f %% smoother than its surroundings (%d of %d windows)", 100*(1-math.Exp(m)), flagged, len(ws))
	default:
		sg.Reason = fmt.Sprintf("face texture consistent with its surroundings (log ratio %.2f)", m)
	}
	return sg
}

func (d *textureDetector) features() map[string]float64 {
	return map[string]float64{"log_ratio_median": dsp.Median(d.all), "log_ratio_p25": dsp.Quantile(d.all, 0.25), "frames": float64(len(d.all))}
}
