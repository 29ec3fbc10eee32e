package faceid

import (
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// Sample is one embedded face: its descriptor and the conditions it was
// taken under. Biometric data: never log it.
type Sample struct {
	At          time.Time
	D           Descriptor
	Yaw, Pitch  float64
	EyeDistance float64
	Sharpness   float64
	// JPEG is the face with a margin (vision.EncodeFaceJPEG), kept as
	// evidence for changes and reference comparisons; nil when encoding
	// failed.
	JPEG []byte
	// Unsteady marks a face posed or moved on purpose: sampled during a
	// challenge (a deep turn, a hand over half the face, leaning in) or
	// turned beyond SteadyPose (yaw only: the pitch estimate reads frontal
	// stills at about −20°, and a laptop camera looks up at most people). The same person's descriptor moves farther
	// then, so the Tracker judges it with UnsteadyDistance and keeps it
	// out of the template when it is farther than ChangeDistance.
	Unsteady bool
}

// SteadyPose is the largest |yaw| (degrees) of a steady face.
const SteadyPose = 20.0

// Describe gates, aligns and embeds the face of one analysed frame (o is
// vision's observation of f, with landmarks). It returns the sample, or
// the gate's reason ("" when embedded) and no error when the face is not
// usable; errors are for broken input or a failing model.
func (m *Model) Describe(f *models.Frame, o *models.Observation, g Gate) (Sample, string, error) {
	if why := g.Precheck(o); why != "" {
		return Sample{}, why, nil
	}
	chip, err := Align(f, &o.Landmarks)
	if err != nil {
		return Sample{}, RejectNoLandmarks, nil
	}
	defer chip.Close()
	s := Sample{At: o.At, Yaw: o.Yaw, Pitch: o.Pitch, EyeDistance: EyeDistance(&o.Landmarks), Sharpness: ChipSharpness(chip)}
	if !g.SharpEnough(s.Sharpness) {
		return Sample{}, RejectBlur, nil
	}
	if s.D, err = m.Embed(chip); err != nil {
		return Sample{}, "", fmt.Errorf("faceid: %w", err)
	}
	s.JPEG, _ = vision.EncodeFaceJPEG(f, o.Face, 85) // evidence only: a failure leaves it nil
	return s, "", nil
}
