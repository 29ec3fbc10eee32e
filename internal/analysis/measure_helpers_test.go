package analysis

import (
	"os"
	"testing"
)

// measuring skips t with the message skip unless the environment variable env is set, and
// returns its value. The measurements and the devset reports take minutes (the devset lives
// outside the repository): they run only when asked for.
func measuring(t *testing.T, env, skip string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skip(skip)
	}
	return v
}
