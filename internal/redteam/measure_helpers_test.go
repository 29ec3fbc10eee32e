package redteam

import (
	"os"
	"testing"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
)

// measuring skips t ("<env>=1 to measure") unless the environment variable env is set, and
// returns its value (some measurements read it as a selector too). The measurements print
// numbers for docs/REDTEAM.md and take minutes: they run only when asked for.
func measuring(t *testing.T, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skip(env + "=1 to measure")
	}
	return v
}

// swapFaces loads what the swap measurements compare, in this order: the honest person's face
// (testdataFace: astronaut.png, or REDTEAM_FACE), the swap's face (obama.jpg) and the identity
// model.
func swapFaces(t *testing.T) (f, other *Face, m *faceid.Model) {
	t.Helper()
	return testdataFace(t), testdataStill(t, "obama.jpg"), facetest.Model(t)
}
