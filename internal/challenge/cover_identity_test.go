package challenge

import "testing"

// TestCheckCoverTransitions: one transition face of another person is not enough, two are,
// and so is one with one of the clock's faces; the clock's faces alone are CheckIdentity's
// business; a failed cover keeps its own reason.
func TestCheckCoverTransitions(t *testing.T) {
	for _, c := range []struct {
		outcome    Outcome
		reason     string
		far, other int
		want       Outcome
		wantReason string
		seen       bool
	}{
		{OutcomePassed, "", 0, 0, OutcomePassed, "", false},
		{OutcomePassed, "", 1, 0, OutcomePassed, "", false},
		{OutcomePassed, "", 0, 1, OutcomePassed, "", false},
		{OutcomePassed, "", 2, 0, OutcomeFailed, "a different face appeared as the hand moved", true},
		{OutcomePassed, "", 1, 1, OutcomeFailed, "a different face appeared as the hand moved", true},
		{OutcomeInconclusive, "face vanished", 3, 0, OutcomeFailed, "a different face appeared as the hand moved", true},
		{OutcomeFailed, "cover too short", 3, 0, OutcomeFailed, "cover too short", true},
		{OutcomeFailed, "a different face appeared while covering the face", 0, 2, OutcomeFailed, "a different face appeared while covering the face", false},
	} {
		r := Result{Kind: KindCoverFace, Outcome: c.outcome, Reason: c.reason}
		got := CheckCoverTransitions(&r, c.far, c.other)
		if got != c.seen || r.Outcome != c.want || r.Reason != c.wantReason {
			t.Errorf("%s, %d far, %d other: %v, %s %q; want %v %s %q", c.outcome, c.far, c.other, got, r.Outcome, r.Reason, c.seen, c.want, c.wantReason)
		}
	}
}
