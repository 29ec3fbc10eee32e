package room

import (
	"encoding/json"

	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/signal"
)

// Presence states of a participant, as the pages show them.
const (
	PresenceAbsent       = "absent"       // not in the call
	PresenceConnecting   = "connecting"   // signaling, media path not up yet
	PresenceConnected    = "connected"    // media flows
	PresenceReconnecting = "reconnecting" // the media path was up and is lost (candidate only)
)

// Presence is who is in the call. The server knows it; pages never guess it
// from their own connection.
type Presence struct {
	Candidate     string `json:"candidate"`
	Host          string `json:"host"`
	CandidateSeen bool   `json:"candidate_seen"`      // the candidate joined earlier in this session
	ElapsedMS     int64  `json:"elapsed_ms"`          // since the session started (the candidate first joined); 0 before
	Observers     int    `json:"observers,omitempty"` // staff pages only: the candidate is not told
}

// peerPresence is one peer's state from its connection.
func (p *Peer) presence() string {
	p.mu.Lock()
	closed, lost := p.closed, p.lost
	p.mu.Unlock()
	switch {
	case closed:
		return PresenceAbsent
	case lost:
		return PresenceReconnecting
	case p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected:
		return PresenceConnected
	}
	return PresenceConnecting
}

// Presence returns who is in the call now (the staff view).
func (r *Room) Presence() Presence {
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		peers = append(peers, p)
	}
	cand, seen, since := r.candidate, r.started, r.startedAt
	r.mu.Unlock()
	pr := Presence{Candidate: PresenceAbsent, Host: PresenceAbsent, CandidateSeen: seen}
	if seen {
		pr.ElapsedMS = r.m.cfg.Now().Sub(since).Milliseconds()
	}
	if cand != nil {
		pr.Candidate = cand.presence()
	}
	for _, p := range peers {
		switch p.role {
		case RoleHost:
			// With several hosts (two tabs), the best state counts.
			if st := p.presence(); st == PresenceConnected || pr.Host == PresenceAbsent {
				pr.Host = st
			}
		case RoleObserver:
			pr.Observers++
		}
	}
	return pr
}

// pushPresence sends every participant the current presence: staff with the
// observer count, the candidate without it. Pushes are serialised so that a
// page never ends on an older state than the last one computed.
func (r *Room) pushPresence() {
	r.presMu.Lock()
	defer r.presMu.Unlock()
	pr := r.Presence()
	staff, _ := json.Marshal(pr)
	pr.Observers = 0
	cand, _ := json.Marshal(pr)
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	for _, p := range peers {
		data := staff
		if p.role == RoleCandidate {
			data = cand
		}
		_ = p.conn.Send(signal.Message{T: signal.TypePresence, Data: data})
	}
}
