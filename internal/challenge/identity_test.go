package challenge

import (
	"strings"
	"testing"
)

// TestCheckIdentity: two faces beyond the threshold fail a passed or inconclusive challenge
// with a reason naming the response; one is not enough; a failed result keeps its reason.
func TestCheckIdentity(t *testing.T) {
	for _, c := range []struct {
		kind       Kind
		outcome    Outcome
		reason     string
		ds         []float64
		want       Outcome
		wantReason string
		other      bool
	}{
		{KindCoverFace, OutcomePassed, "", []float64{0.1, 0.2, 0.71, 0.3}, OutcomePassed, "", false},
		{KindCoverFace, OutcomePassed, "", []float64{0.1, 0.8, 0.2, 0.84}, OutcomeFailed, "a different face appeared while covering the face", true},
		{KindTurnHead, OutcomeInconclusive, ReasonNoVideo, []float64{0.9, 0.8}, OutcomeFailed, "a different face appeared while turning", true},
		{KindBlink, OutcomeFailed, ReasonTooFewBlinks, []float64{0.9, 0.8}, OutcomeFailed, ReasonTooFewBlinks, true},
		{KindFlash, OutcomePassed, "", nil, OutcomePassed, "", false},
	} {
		r := Result{Kind: c.kind, Outcome: c.outcome, Reason: c.reason, Metrics: map[string]float64{"x": 1}}
		orig := r.Metrics
		got := CheckIdentity(&r, c.ds, 0)
		if got != c.other || r.Outcome != c.want || r.Reason != c.wantReason {
			t.Errorf("%s %s %v: other %v, %s %q; want %v, %s %q", c.kind, c.outcome, c.ds, got, r.Outcome, r.Reason, c.other, c.want, c.wantReason)
		}
		if r.Metrics["x"] != 1 || len(orig) != 1 {
			t.Errorf("metrics %v (original %v): want a copy with the kind's metrics", r.Metrics, orig)
		}
		if n := r.Metrics[MetricIdentityOther]; (n >= IdentityMinFaces) != c.other {
			t.Errorf("%s: %s = %v", c.kind, MetricIdentityOther, n)
		}
		if c.other && c.want == OutcomeFailed && c.outcome != OutcomeFailed && !strings.HasPrefix(r.Reason, ReasonOtherFace) {
			t.Errorf("reason %q", r.Reason)
		}
	}
}

// TestCheckSamePose: two same-pose pairs beyond DefaultPairFar involving two faces set apart fail
// a passed or inconclusive turn with the different face; one pair is not enough, nor are any
// number of pairs that all include one face (one frame: recorded, not failed); a failed result
// keeps its reason.
func TestCheckSamePose(t *testing.T) {
	for _, c := range []struct {
		outcome    Outcome
		reason     string
		far, apart int
		want       Outcome
		wantReason string
	}{
		{OutcomePassed, "", 0, 0, OutcomePassed, ""},
		{OutcomePassed, "", 1, 1, OutcomePassed, ""},
		{OutcomePassed, "", 2, 2, OutcomeFailed, "a different face appeared while turning"},
		{OutcomePassed, "", 2, 1, OutcomePassed, ""},
		{OutcomePassed, "", 6, 1, OutcomePassed, ""},
		{OutcomeInconclusive, ReasonNoVideo, 9, 2, OutcomeFailed, "a different face appeared while turning"},
		{OutcomeFailed, "not turned far enough", 9, 2, OutcomeFailed, "not turned far enough"},
	} {
		r := Result{Kind: KindTurnHead, Outcome: c.outcome, Reason: c.reason, Metrics: map[string]float64{"x": 1}}
		got := CheckSamePose(&r, c.far, c.apart)
		seen := c.far >= IdentityMinFaces && c.apart >= IdentityMinFaces
		lone := c.far >= IdentityMinFaces && c.apart < IdentityMinFaces
		if got != seen || r.Outcome != c.want || r.Reason != c.wantReason || (r.Metrics[MetricPoseLone] == 1) != lone || r.Metrics["x"] != 1 {
			t.Errorf("%s, %d far pairs, %d apart: %v, %s %q %v; want %s %q", c.outcome, c.far, c.apart, got, r.Outcome, r.Reason, r.Metrics, c.want, c.wantReason)
		}
	}
}
