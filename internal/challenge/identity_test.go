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

// TestCheckSamePose: two same-pose pairs beyond DefaultPairFar fail a passed or inconclusive
// turn with the different face; one is not enough; a failed result keeps its reason.
func TestCheckSamePose(t *testing.T) {
	for _, c := range []struct {
		outcome    Outcome
		reason     string
		far        int
		want       Outcome
		wantReason string
	}{
		{OutcomePassed, "", 0, OutcomePassed, ""},
		{OutcomePassed, "", 1, OutcomePassed, ""},
		{OutcomePassed, "", 2, OutcomeFailed, "a different face appeared while turning"},
		{OutcomeInconclusive, ReasonNoVideo, 9, OutcomeFailed, "a different face appeared while turning"},
		{OutcomeFailed, "not turned far enough", 9, OutcomeFailed, "not turned far enough"},
	} {
		r := Result{Kind: KindTurnHead, Outcome: c.outcome, Reason: c.reason}
		got := CheckSamePose(&r, c.far)
		if got != (c.far >= IdentityMinFaces) || r.Outcome != c.want || r.Reason != c.wantReason {
			t.Errorf("%s, %d far pairs: %v, %s %q; want %s %q", c.outcome, c.far, got, r.Outcome, r.Reason, c.want, c.wantReason)
		}
	}
}
