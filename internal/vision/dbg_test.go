package vision

import (
	"fmt"

	"github.com/livecheck/livecheck/models"
)

func obsString(o models.Observation) string {
	return fmt.Sprintf("present=%v coast=%v box=%v conf=%.2f lm=%v pose=%v yaw=%.1f pitch=%.1f roll=%.1f ear=%.3f mouth=%.3f scale=%.3f occ=%.2f Y=%.0f Cb=%.0f Cr=%.0f sharp=%.0f",
		o.FacePresent, o.Coasting, o.Face, o.FaceConf, o.LandmarksOK, o.PoseOK, o.Yaw, o.Pitch, o.Roll, o.EAR, o.Mouth, o.Scale, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr, o.Sharpness)
}
