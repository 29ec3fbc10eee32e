// Package signal carries WebRTC signaling over a WebSocket: JSON messages,
// validated on the way in, one writer goroutine per socket.
package signal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Message types.
const (
	// client → server
	TypeAnswer    = "answer"    // sdp: the client's answer to the server's offer
	TypeCandidate = "candidate" // candidate: a trickled ICE candidate (both directions)
	TypeLeave     = "leave"     // the client leaves the call
	TypeEnd       = "end"       // the host ends the interview
	TypeChallenge = "challenge_now"
	// server → client
	TypeHello   = "hello"   // role and ICE servers; the server's offer follows (to an observer: once there is media)
	TypeOffer   = "offer"   // sdp: the server's (re)offer
	TypeError   = "error"   // error: what was wrong with the last message; never fatal
	TypePeer    = "peer"    // data: {"event": "candidate_joined"|"candidate_left"|"candidate_connection_lost"|"candidate_connection_restored"}
	TypeSignals = "signals" // data: live signals for staff
	TypeEnded   = "ended"   // the interview ended
	// TypeMoved: the interview goes on on another node (this one lost it:
	// fenced off the database or taken over); data {"reason"}. The client
	// reconnects through the route, which names the interview's new owner.
	TypeMoved = "moved"
	TypeBusy  = "busy" // error: this link is in use by another browser
	// TypePresence tells every participant who is in the call, on every change:
	// data {"candidate": "absent"|"connecting"|"connected"|"reconnecting",
	// "host": "absent"|"connecting"|"connected", "candidate_seen": bool, "observers": n (staff only)}.
	TypePresence = "presence"
	// TypeChallengeState tells staff what the session's challenges are doing:
	// data {"enabled", "running": {…}|null, "locked", "failed", "lock_after", "remaining", "no_flash"}.
	TypeChallengeState = "challenge_state"
	// TypeChallengeRefused answers a "challenge now" that was not carried out: data {"reason": plain text}.
	TypeChallengeRefused = "challenge_refused"
)

// MaxMessageSize bounds one signaling message (an SDP is a few kB).
const MaxMessageSize = 64 << 10

// ICECandidate is a trickled ICE candidate as browsers send it.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Message is one signaling message.
type Message struct {
	T          string          `json:"t"`
	SDP        string          `json:"sdp,omitempty"`
	Candidate  *ICECandidate   `json:"candidate,omitempty"`
	Error      string          `json:"error,omitempty"`
	Role       string          `json:"role,omitempty"`
	ICEServers []ICEServer     `json:"ice_servers,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// ICEServer is an ICE server as RTCPeerConnection takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ErrBadMessage wraps every parse failure.
var ErrBadMessage = errors.New("signal: bad message")

// Parse decodes and validates a client message. Unknown fields are refused, so
// are unknown types, oversized or structurally wrong SDPs and candidates.
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxMessageSize {
		return m, fmt.Errorf("%w: %d bytes exceeds %d", ErrBadMessage, len(b), MaxMessageSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: trailing data", ErrBadMessage)
	}
	switch m.T {
	case TypeAnswer:
		if err := checkSDP(m.SDP); err != nil {
			return Message{}, err
		}
	case TypeCandidate:
		if m.Candidate == nil {
			return Message{}, fmt.Errorf("%w: candidate missing", ErrBadMessage)
		}
		c := m.Candidate.Candidate
		if len(c) > 1024 || strings.ContainsAny(c, "\r\n\x00") {
			return Message{}, fmt.Errorf("%w: malformed candidate", ErrBadMessage)
		}
		if c != "" && !strings.HasPrefix(c, "candidate:") {
			return Message{}, fmt.Errorf("%w: candidate must start with \"candidate:\"", ErrBadMessage)
		}
	case TypeLeave, TypeEnd, TypeChallenge:
	case "":
		return Message{}, fmt.Errorf("%w: field t missing", ErrBadMessage)
	default:
		return Message{}, fmt.Errorf("%w: unknown type %q", ErrBadMessage, truncate(m.T, 32))
	}
	return m, nil
}

// checkSDP performs the structural checks pion would otherwise fail on later.
func checkSDP(sdp string) error {
	if sdp == "" {
		return fmt.Errorf("%w: sdp missing", ErrBadMessage)
	}
	if !strings.HasPrefix(sdp, "v=0") {
		return fmt.Errorf("%w: sdp must start with v=0", ErrBadMessage)
	}
	if strings.ContainsRune(sdp, 0) {
		return fmt.Errorf("%w: sdp contains NUL", ErrBadMessage)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
