// Package wire holds the JSON shapes livecheck exchanges with its clients: the
// admin API (/api/...), the candidate page's control-channel messages and
// the challenge state pushed to the staff pages. It depends on nothing else of
// livecheck but the shared models, so that clients such as the load generator
// use the server's contract without importing the server.
package wire

import "time"

// InterviewRequest is the body of POST /api/interviews.
type InterviewRequest struct {
	CandidateName  string    `json:"candidate_name"`
	CandidateEmail string    `json:"candidate_email"`
	ClaimedCity    string    `json:"claimed_city,omitempty"`
	ClaimedCountry string    `json:"claimed_country,omitempty"`
	ScheduledAt    time.Time `json:"scheduled_at,omitzero"` // RFC 3339; default now
	Notes          string    `json:"notes,omitempty"`
}

// InterviewCreated is the answer of POST /api/interviews (201).
type InterviewCreated struct {
	ID        int64     `json:"id"`
	JoinURL   string    `json:"join_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Session is a stored session summary.
type Session struct {
	Reason           string    `json:"reason"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at"`
	FramesDecoded    int64     `json:"frames_decoded"`
	FramesAnalysed   int64     `json:"frames_analysed"`
	FramesDropped    int64     `json:"frames_dropped"`
	DecodeErrors     int64     `json:"decode_errors"`
	KeyframeRequests int64     `json:"keyframe_requests"`
	AudioChunks      int64     `json:"audio_chunks"`
}

// Signal is one stored signal.
type Signal struct {
	Kind       string  `json:"kind"`
	Value      float64 `json:"value"`
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// Challenge is one stored challenge result.
type Challenge struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Live are the figures of a running session.
type Live struct {
	FramesDecoded  uint64  `json:"frames_decoded"`
	FramesAnalysed uint64  `json:"frames_analysed"`
	FramesDropped  uint64  `json:"frames_dropped"`
	FacePresent    float64 `json:"face_present"` // share of the last ~5 s of analysed frames
	AudioDB        float64 `json:"audio_db"`     // mean level of the last second
	RTTMs          float64 `json:"rtt_ms"`
}

// Interview is the answer of GET /api/interviews/:id.
type Interview struct {
	ID         int64       `json:"id"`
	Status     string      `json:"status"`
	Live       *Live       `json:"live,omitempty"`    // figures of the running session
	Session    *Session    `json:"session,omitempty"` // stored once the session ended
	Signals    []Signal    `json:"signals"`
	Challenges []Challenge `json:"challenges"`
	// Reference is the candidate's reference photo, when one is attached.
	Reference *ReferencePhoto `json:"reference,omitempty"`
	// Verdict is the latest stored verdict (after the session, or a rescore).
	Verdict *Verdict `json:"verdict,omitempty"`
}

// Verdict is the risk engine's decision on an interview: verified, review or failed. The
// interview's status says less: a session sent to review stays "completed" (only failed or
// locked sessions are "flagged").
type Verdict struct {
	Decision   string    `json:"decision"` // verified | review | failed
	Score      float64   `json:"score"`    // 0..100
	ReviewAt   float64   `json:"review_at"`
	FailAt     float64   `json:"fail_at"`
	ComputedAt time.Time `json:"computed_at"`
}

// Error is the body of every API error: a message fit for a person, never
// the server's internal error text.
type Error struct {
	Error string `json:"error"`
}

// ReferencePhoto describes an interview's reference photo (the answer of
// PUT /api/interviews/:id/reference, and part of GET /api/interviews/:id);
// the image itself is never in the JSON.
type ReferencePhoto struct {
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	Model      string    `json:"model"` // the face model its descriptor comes from
	AttachedAt time.Time `json:"attached_at"`
}

// Route says where a participant connects for an interview (GET
// /join/<token>/node, /interviews/<id>/node?mode=, /api/interviews/<id>/node?mode=):
// the node that holds it, with a ticket for that node's signaling socket.
type Route struct {
	Node    string    `json:"node"`    // node id
	URL     string    `json:"url"`     // the node's public URL (http or https)
	WS      string    `json:"ws"`      // the signaling socket's absolute URL, ticket included
	Expires time.Time `json:"expires"` // the ticket's end: connect before, else ask again
}
