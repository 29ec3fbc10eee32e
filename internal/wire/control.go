package wire

import (
	"time"

	"github.com/livecheck/livecheck/models"
)

// ControlMessage is a message from the candidate's page on the "control"
// DataChannel. Everything in it is a claim of the browser: evidence, never proof.
type ControlMessage struct {
	T   string              `json:"t"`             // env | pong | shown
	ID  string              `json:"id,omitempty"`  // pong: ping id; shown: challenge id
	Env *models.Environment `json:"env,omitempty"` // env
}

// RunningChallenge is the challenge on the candidate's screen, as staff see it.
type RunningChallenge struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"` // the instruction the candidate reads
	DeadlineMS int64     `json:"deadline_ms"`
	Issued     time.Time `json:"issued"`
}

// ChallengeState is what the recruiter's call bar shows about challenges
// (the challenge_state message to the staff pages).
type ChallengeState struct {
	Enabled   bool              `json:"enabled"`
	Running   *RunningChallenge `json:"running"`
	Locked    bool              `json:"locked"`
	Failed    int               `json:"failed"`
	LockAfter int               `json:"lock_after"`
	Remaining int               `json:"remaining"` // planned challenges not issued yet
	NoFlash   bool              `json:"no_flash"`  // the candidate chose slow fades instead of flashes
}
