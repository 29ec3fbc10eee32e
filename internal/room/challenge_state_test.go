package room

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/models"
)

// TestRefusalReason: every way "challenge now" can be refused has its own plain reason.
func TestRefusalReason(t *testing.T) {
	locked := fmt.Errorf("analysis: challenges are locked: %w", models.ErrLocked) // as internal/analysis reports it
	seen := map[string]bool{}
	for _, err := range []error{ErrNoCandidate, ErrCandidateConnecting, challenge.ErrBusy, locked, ErrChallengesOff,
		fmt.Errorf("wrapped: %w", challenge.ErrBusy), errors.New("challenge: rand: short read")} {
		r := RefusalReason(err, 3)
		if r == "" || strings.Contains(r, "room:") || strings.Contains(r, "challenge:") {
			t.Errorf("%v: reason %q is not plain", err, r)
		}
		seen[r] = true
	}
	if len(seen) != 6 { // the wrapped ErrBusy reads like ErrBusy
		t.Errorf("%d distinct reasons, want 6: %v", len(seen), seen)
	}
	if r := RefusalReason(locked, 3); !strings.Contains(r, "3 failed") {
		t.Errorf("locked: %q", r)
	}
}
