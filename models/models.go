// Package models holds the domain types and sentinel errors shared by every livecheck package.
package models

import (
	"errors"
	"time"
)

// Sentinel errors, translated at package boundaries (store, HTTP).
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the caller may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict means the record is in a state that does not allow the change.
	ErrConflict = errors.New("conflict")
	// ErrExpired means a token or link is past its expiry.
	ErrExpired = errors.New("expired")
	// ErrRevoked means a token or link was revoked.
	ErrRevoked = errors.New("revoked")
	// ErrInvalid means the input is malformed.
	ErrInvalid = errors.New("invalid input")
	// ErrLocked means the action is refused until a person reviews the case
	// (a session's challenges after repeated failures).
	ErrLocked = errors.New("locked")
)

// Role is a staff account's role.
type Role string

// Roles.
const (
	RoleAdmin     Role = "admin"
	RoleRecruiter Role = "recruiter"
	RoleReviewer  Role = "reviewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleRecruiter || r == RoleReviewer
}

// User is a staff account.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	// Team groups accounts for the "team" interview sharing setting; "" is no team.
	Team string
}

// InterviewStatus is the life-cycle state of an interview.
type InterviewStatus string

// Interview statuses. Expired is derived from the link expiry, not stored.
const (
	StatusScheduled   InterviewStatus = "scheduled"
	StatusLive        InterviewStatus = "live"
	StatusCompleted   InterviewStatus = "completed"
	StatusFlagged     InterviewStatus = "flagged"
	StatusInterrupted InterviewStatus = "interrupted"
	StatusRevoked     InterviewStatus = "revoked"
	StatusExpired     InterviewStatus = "expired"
	// StatusDeclined: the candidate declined the analysis (and so the call). The
	// link keeps working: consenting later reopens the interview.
	StatusDeclined InterviewStatus = "declined"
)

// Interview is one scheduled remote interview with one candidate.
type Interview struct {
	ID             int64
	CandidateName  string
	CandidateEmail string
	ClaimedCity    string
	ClaimedCountry string
	ScheduledAt    time.Time
	Notes          string
	Status         InterviewStatus
	TokenHash      []byte
	ExpiresAt      time.Time
	RevokedAt      *time.Time
	InviteSentAt   *time.Time
	CreatedBy      int64
	CreatedAt      time.Time
	StartedAt      *time.Time
	EndedAt        *time.Time
}

// EffectiveStatus returns the status a person should see at time now:
// a scheduled interview whose link has expired shows as expired.
func (iv *Interview) EffectiveStatus(now time.Time) InterviewStatus {
	if iv.Status == StatusScheduled && !now.Before(iv.ExpiresAt) {
		return StatusExpired
	}
	return iv.Status
}

// Rect is an axis-aligned box in pixels of the analysed frame.
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether the rectangle has no area.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Observation is what the vision pipeline measured on one analysed frame.
// Fields that could not be measured are left at their zero value and the
// corresponding *OK flag is false.
type Observation struct {
	At          time.Time // capture time of the frame (server clock)
	FacePresent bool
	Face        Rect
	FaceConf    float64 // detector confidence 0..1 (neighbours / tracking quality)
	LandmarksOK bool
	Landmarks   [68][2]float32 `json:"-"` // biometric: never logged
	Yaw         float64        // degrees, positive = candidate turns to their left (image right)
	Pitch       float64        // degrees, positive = looking up
	Roll        float64        // degrees
	EAR         float64        // mean eye aspect ratio
	Mouth       float64        // mouth opening ratio (inner lip gap / mouth width)
	Scale       float64        // face width / frame width
	Occlusion   float64        // 0 (clear) .. 1 (covered)
	FaceY       float64        // mean luma of the face region 0..255
	FaceCb      float64        // mean Cb of the face region
	FaceCr      float64        // mean Cr of the face region
	Sharpness   float64        // variance of Laplacian on the face region
	// Appended by internal/vision:
	Coasting bool // the detector missed the face on this frame; Face is the last tracked box (covered, turned away or gone), FaceConf is 0 and no landmarks are fitted
	PoseOK   bool // Yaw/Pitch/Roll were solved from the landmarks on this frame
	// Found is how vision found the face on this frame (models.Found*): a full-frame detection,
	// a re-detection around the last box, or the landmarks alone; "" when coasting or no face.
	Found string `json:",omitempty"`
	// Set by the analysis (challenge.ChangeMeter): the mean absolute luma change inside the face
	// box from the previous decoded frame, in levels; ChangeOK when that frame was the direct
	// predecessor in decode order (not when frames between them were skipped or lost).
	Change   float64 `json:",omitempty"`
	ChangeOK bool    `json:",omitempty"`
}

// How vision found the face on a frame (Observation.Found).
const (
	FoundFull    = "full"    // a full-frame cascade detection
	FoundNear    = "near"    // the cascade re-run around the last box
	FoundTracked = "tracked" // followed by its landmarks alone (no cascade)
)

// Signal is one piece of evidence for the risk engine.
type Signal struct {
	Kind       string    `json:"kind"`       // e.g. "face_presence", "seam", "virtual_camera"
	Value      float64   `json:"value"`      // detector-specific measure
	Score      float64   `json:"score"`      // 0 (looks genuine) .. 1 (looks forged)
	Confidence float64   `json:"confidence"` // 0..1, how much the measurement can be trusted
	Reason     string    `json:"reason"`     // human-readable explanation
	At         time.Time `json:"at"`         // evidence time, zero when session-wide
}

// Frame is one decoded video frame in I420 layout with tightly packed planes:
// Y is Width*Height bytes, U and V are (Width/2)*(Height/2) bytes each.
// The planes may come from a pool: a consumer that keeps them past its call must copy.
type Frame struct {
	Width, Height int
	Y, U, V       []byte
	Capture       time.Time // capture time on the server clock (RTCP SR mapped, or arrival)
	Keyframe      bool
	Seq           uint64 // decode order, starting at 1
	// Quant is the frame's VP8 base quantiser index plus one (1..128: libvpx's
	// VPXD_GET_LAST_QUANTIZER, 0..127, where 127 is the coarsest), 0 when
	// unknown (not decoded by media.VP8Decoder). A measure of the sender's
	// compression, not of the picture.
	Quant int
}

// Why a live session ended (stored as the session's reason).
const (
	EndCompleted   = "completed"   // the host ended it, or the candidate left and did not return
	EndInterrupted = "interrupted" // the server shut down during the interview
)

// Point is one sample of a stored time series: T in milliseconds since the
// session started, V the value.
type Point struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// Interval is a stretch of a session, in milliseconds since it started.
type Interval struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Ms is the interval's length in milliseconds.
func (i Interval) Ms() int64 { return i.To - i.From }
