package challenge

// The identity check of a challenge's response: a real-time face swap fails where it was not
// trained, under a hand or at a deep turn, and shows the operator's own face for a few frames.
// The analysis's face-identity stage (analysis/identity.go) samples faces every 250 ms while a
// challenge runs and measures each one's distance to the session's identity; CheckIdentity
// turns a face of clearly another person in the response into a failure.

// DefaultIdentityFar is the identity distance (dlib descriptor units, Euclidean) beyond which a
// face sampled during a challenge's response counts as another person, and IdentityMinFaces
// how many such faces fail the challenge. Measured offline on the red team's synthetic person
// through vision and the identity stage (internal/redteam TestMeasureIdentityDistances,
// docs/REDTEAM.md): over cover_face, turn_head, look and move_closer at reaction latencies of
// 0.3–1.2 s, the honest person's largest distance was 0.71, on a half-covered face the
// identity gate let through (dim light, larger head; at most one face above 0.70 per
// challenge), 0.59 at a deep turn or look up; the operator's real face shown by a failing swap
// measured 0.76–0.87 (dropout under the hand: four faces of 0.79–0.84 per cover). A single face
// is not enough: one half-covered honest face comes close. The session-level change distance
// (faceid.DefaultChangeDistance, 0.50) is too low at the extremes of a response.
const (
	DefaultIdentityFar = 0.75
	IdentityMinFaces   = 2
)

// MetricIdentityOther counts the faces of another person in a challenge's response
// (Result.Metrics; present when the identity was checked).
const MetricIdentityOther = "identity_other_faces"

// ReasonOtherFace prefixes the reason of a challenge failed by the identity check.
const ReasonOtherFace = "a different face appeared"

// CheckIdentity applies the identity check to r: distances are the identity distances of the
// faces sampled from the challenge's issue to its verification, far the threshold (≤ 0:
// DefaultIdentityFar). IdentityMinFaces faces beyond far fail a passed or inconclusive result
// with a reason naming what the candidate was doing; a failed result keeps its reason. It
// reports whether another person was seen, and counts the faces beyond far in r.Metrics
// (which it replaces by a copy).
func CheckIdentity(r *Result, distances []float64, far float64) bool {
	if far <= 0 {
		far = DefaultIdentityFar
	}
	n := 0
	for _, d := range distances {
		if d > far {
			n++
		}
	}
	m := make(map[string]float64, len(r.Metrics)+1)
	for k, v := range r.Metrics {
		m[k] = v
	}
	m[MetricIdentityOther] = float64(n)
	r.Metrics = m
	if n < IdentityMinFaces {
		return false
	}
	if r.Outcome == OutcomePassed || r.Outcome == OutcomeInconclusive {
		r.Outcome = OutcomeFailed
		r.Reason = ReasonOtherFace + identityWhile(r.Kind)
	}
	return true
}

func identityWhile(k Kind) string {
	switch k {
	case KindCoverFace:
		return " while covering the face"
	case KindTurnHead:
		return " while turning"
	case KindLook:
		return " while looking up or down"
	case KindMoveCloser:
		return " while moving closer"
	case KindBlink:
		return " while blinking"
	}
	return " during the response"
}

// The same-pose check (faceid.Session.Pairs): while a challenge runs, the analysis embeds the
// candidate's turned faces (|yaw| ≥ 10°) densely and compares each with its neighbours at
// nearly the same yaw (within 15°, 1.5 s apart). A real head turning stays one person from frame
// to frame; a swap that breaks at a deep turn shows the operator's face next to the swap's.
// DefaultPairFar is the distance beyond which a pair counts as two people (the same as
// DefaultIdentityFar), and IdentityMinFaces such pairs fail the challenge. Measured
// (docs/REDTEAM.md finding 9): on the devset's real faces the same person's same-pose pairs
// reach 0.55 (single-person clips, |yaw| < 20°, 4 400 pairs) and 0.61 (g09's film actors turned
// 20–48°, in its low-resolution copy): a margin of 0.14; on the red team's renderer the honest
// turns reach 0.68 (dim, noisy): 0.07. The operator's face against the swap's at the same pose
// measured 0.76–0.88 on the renderer; two real people at the same pose (g09's two actors, 19
// pairs) 0.67 at the least, 0.74 in the median: a swap of a look-alike can stay under it.
//
// MetricPoseFaces counts the turned faces compared, MetricPosePairs the pairs, MetricPoseMax is
// the largest pair distance and MetricPoseFar the pairs beyond DefaultPairFar.
const (
	DefaultPairFar  = DefaultIdentityFar
	MetricPoseFaces = "identity_pose_faces"
	MetricPosePairs = "identity_pose_pairs"
	MetricPoseMax   = "identity_pose_max"
	MetricPoseFar   = "identity_pose_far"
	// MetricPoseApart is the fewest faces every far pair includes, up to 2 (faceid.PairCheck.Apart):
	// 1 when one face is in all of them. Recorded to tell one misread frame from another person
	// in the next honest failure; not a criterion (CheckSamePose).
	MetricPoseApart = "identity_pose_apart"
)

// CheckSamePose applies the same-pose check to r: far is the number of same-pose pairs farther
// than DefaultPairFar. IdentityMinFaces of them fail a passed or inconclusive result as
// CheckIdentity does (a failed result keeps its reason). It reports whether another person was
// seen. The caller records the metrics (MetricPoseApart among them).
//
// Not changed for the honest dim turn failed here once in 20 (docs/REDTEAM.md finding 19 (b)):
// counting the faces set apart instead of the pairs (one face in every far pair: one frame's
// evidence, not two) lets through a swap breaking beyond 25°, whose lone embedded swap face can
// be that one face among the operator's (offline, TestIdentityDuringChallenges' left break: 7
// far pairs, all through one face), and no measured quality of the compared crops (luma, chip
// sharpness, eye spacing, yaw speed) sets the honest far pairs apart from the breaking swap's
// operator faces, which are the deeper-turned, smaller, less sharp ones.
func CheckSamePose(r *Result, far int) bool {
	if far < IdentityMinFaces {
		return false
	}
	if r.Outcome == OutcomePassed || r.Outcome == OutcomeInconclusive {
		r.Outcome = OutcomeFailed
		r.Reason = ReasonOtherFace + identityWhile(r.Kind)
	}
	return true
}
