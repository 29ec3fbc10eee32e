package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/netguard"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/models"
)

// Sender delivers signaling messages to one client.
type Sender interface {
	Send(m signal.Message) error
}

// Peer is one participant's PeerConnection.
type Peer struct {
	room       *Room
	role       Role
	conn       Sender
	pc         *webrtc.PeerConnection
	attemptKey string
	cands      *netguard.Filter // which of the client's ICE candidates the server may contact

	negMu   sync.Mutex // serialises offers
	pending bool       // a renegotiation was requested while an offer was outstanding
	offered bool       // an offer was sent

	mu      sync.Mutex
	remote  []string  // ICE candidates the client trickled (evidence for network checks)
	ice     iceReport // read when the peer closed
	senders map[*forwardTrack]*webrtc.RTPSender
	closed  bool
	lost    bool // the candidate's media path is disconnected (told to staff)
	ctl     *control
	once    sync.Once
}

func newPeer(r *Room, role Role, conn Sender) (*Peer, error) {
	cfg := r.m.cfg
	pc, err := cfg.API.NewPeerConnection(webrtc.Configuration{ICEServers: cfg.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("room: new peer connection: %w", err)
	}
	p := &Peer{room: r, role: role, conn: conn, pc: pc, senders: map[*forwardTrack]*webrtc.RTPSender{},
		cands: netguard.NewFilter(cfg.RemoteCandidates, cfg.MaxRemoteCandidates)}
	if role == RoleCandidate || role == RoleHost {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				pc.Close()
				return nil, fmt.Errorf("room: add transceiver: %w", err)
			}
		}
	}
	if role == RoleCandidate {
		ordered := true
		dc, err := pc.CreateDataChannel("control", &webrtc.DataChannelInit{Ordered: &ordered})
		if err != nil {
			pc.Close()
			return nil, fmt.Errorf("room: control channel: %w", err)
		}
		p.ctl = newControl(p, dc)
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		_ = conn.Send(signal.Message{T: signal.TypeCandidate, Candidate: &signal.ICECandidate{
			Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex}})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		cfg.Logger.Debug("room: peer connection state", "interview", r.id, "role", string(role), "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			// No media path any more (the network went away): leave, so that a
			// candidate's grace period starts; the page rejoins when it can.
			go p.Close("connection failed")
			return
		}
		if role == RoleCandidate {
			// Staff see at once that the candidate's media stopped (their
			// network went away), not only when the connection is declared
			// failed ~25 s later; and when it comes back by itself.
			switch s {
			case webrtc.PeerConnectionStateDisconnected:
				p.mu.Lock()
				p.lost = true
				p.mu.Unlock()
				cfg.Logger.Info("room: candidate connection lost", "interview", r.id)
				r.BroadcastStaff(signal.Message{T: signal.TypePeer, Data: []byte(`{"event":"candidate_connection_lost"}`)})
			case webrtc.PeerConnectionStateConnected:
				p.mu.Lock()
				was := p.lost
				p.lost = false
				p.mu.Unlock()
				if was {
					cfg.Logger.Info("room: candidate connection restored", "interview", r.id)
					r.BroadcastStaff(signal.Message{T: signal.TypePeer, Data: []byte(`{"event":"candidate_connection_restored"}`)})
				}
			}
		}
		if s == webrtc.PeerConnectionStateConnected {
			// A new receiver needs a keyframe to start decoding.
			for _, t := range p.trackList() {
				t.requestKeyframe()
			}
		}
		go r.pushPresence() // every page shows who is connected (presence.go)
	})
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		if role == RoleObserver {
			return
		}
		ft, err := newForwardTrack(p, remote)
		if err != nil {
			cfg.Logger.Error("room: forward track", "interview", r.id, "err", err)
			return
		}
		go ft.readRTCP(recv)
		go ft.run(remote)
		r.addTrack(ft)
	})
	metrics.PeerJoined(string(role))
	return p, nil
}

// Role is the participant's role.
func (p *Peer) Role() Role { return p.role }

// Start sends the first offer, unless joining already made one (the room's
// tracks were added to the peer): a second offer at once would only make the
// client renegotiate for nothing.
func (p *Peer) Start() {
	p.negMu.Lock()
	offered := p.offered
	p.negMu.Unlock()
	if !offered {
		p.negotiate()
	}
}

func (p *Peer) trackList() []*forwardTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*forwardTrack, 0, len(p.senders))
	for t := range p.senders {
		out = append(out, t)
	}
	return out
}

// setTracks adds and removes forwarded tracks; it reports whether anything changed.
func (p *Peer) setTracks(want []*forwardTrack) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	changed := false
	keep := map[*forwardTrack]bool{}
	for _, t := range want {
		keep[t] = true
		if _, ok := p.senders[t]; ok {
			continue
		}
		s, err := p.pc.AddTrack(t.local)
		if err != nil {
			p.room.m.cfg.Logger.Warn("room: add track", "err", err)
			continue
		}
		p.senders[t] = s
		changed = true
		go p.readSenderRTCP(t, s)
	}
	for t, s := range p.senders {
		if !keep[t] {
			_ = p.pc.RemoveTrack(s)
			delete(p.senders, t)
			changed = true
		}
	}
	return changed
}

// readSenderRTCP drains RTCP from a sender (required by pion) and forwards
// keyframe requests from this receiver to the track's publisher.
func (p *Peer) readSenderRTCP(t *forwardTrack, s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.requestKeyframe()
			}
		}
	}
}

// negotiate sends a (re)offer, or remembers to once the current one is answered.
func (p *Peer) negotiate() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.isClosed() {
		return
	}
	if p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		return
	}
	if p.ctl == nil && len(p.pc.GetTransceivers()) == 0 {
		// A receive-only peer (a reviewer observing) that joins before the
		// candidate publishes has nothing to negotiate yet. An offer without
		// media sections is refused by some clients (pion: "no ice-ufrag");
		// the first track added to it (syncTracks) makes the first offer.
		return
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.room.m.cfg.Logger.Warn("room: create offer", "err", err)
		return
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		p.room.m.cfg.Logger.Warn("room: set local description", "err", err)
		return
	}
	p.offered = true
	_ = p.conn.Send(signal.Message{T: signal.TypeOffer, SDP: offer.SDP})
}

// HandleMessage applies one client message. Errors are reported to the client
// as error messages in fixed words (details go to the log, never to the
// browser) and never end the call.
func (p *Peer) HandleMessage(ctx context.Context, raw []byte) {
	m, err := signal.Parse(raw)
	if err != nil {
		p.refuse("The message was not understood.", err)
		return
	}
	switch m.T {
	case signal.TypeAnswer:
		p.negMu.Lock()
		if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			p.negMu.Unlock()
			p.refuse("Unexpected answer: no offer is outstanding.", nil)
			return
		}
		// Candidates inside the answer are filtered like trickled ones: the
		// ICE agent would otherwise send checks to whatever they name.
		sdp, refused := p.cands.SDP(m.SDP)
		p.noteRemote(refused...)
		err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
		if err != nil && p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
			// pion cannot roll an offer back: the page gets the outstanding
			// offer again and may answer it (before, it waited for an offer
			// that never came). A pending renegotiation stays pending.
			offer := p.pc.LocalDescription()
			p.negMu.Unlock()
			p.refuse("The answer was not accepted; the offer follows again.", err)
			if offer != nil {
				_ = p.conn.Send(signal.Message{T: signal.TypeOffer, SDP: offer.SDP})
			}
			return
		}
		again := p.pending || err != nil // refused after the state changed: offer afresh
		p.pending = false
		p.negMu.Unlock()
		if err != nil {
			p.refuse("The answer was not accepted; a new offer follows.", err)
		}
		if again {
			p.negotiate()
		}
	case signal.TypeCandidate:
		c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
			SDPMLineIndex: m.Candidate.SDPMLineIndex, UsernameFragment: m.Candidate.UsernameFragment}
		if c.Candidate == "" {
			return // end of candidates
		}
		p.noteRemote(c.Candidate)
		if err := p.cands.Allow(c.Candidate); err != nil {
			// Loopback, private and other non-public addresses, host names and
			// candidates beyond the cap are never contacted (a connection that
			// needs them still forms through peer-reflexive candidates, from
			// the checks the browser sends).
			p.room.m.cfg.Logger.Debug("room: remote candidate not used", "interview", p.room.id, "role", string(p.role), "why", err)
			return
		}
		if err := p.pc.AddICECandidate(c); err != nil {
			p.refuse("The candidate was not accepted.", err)
		}
	case signal.TypeLeave:
		p.Close("left")
	case signal.TypeEnd:
		if p.role != RoleHost {
			p.refuse("Only the recruiter can end the interview.", nil)
			return
		}
		p.room.End(EndCompleted)
	case signal.TypeChallenge:
		if p.role != RoleHost {
			p.refuse("Only the recruiter can issue a challenge.", nil)
			return
		}
		p.room.challengeNowFor(p) // answers with the reason when refused
	}
}

// refuse tells the client text; err, when set, is logged with the details.
func (p *Peer) refuse(text string, err error) {
	if err != nil {
		p.room.m.cfg.Logger.Debug("room: client message refused", "interview", p.room.id, "role", string(p.role), "err", err)
	}
	_ = p.conn.Send(signal.Message{T: signal.TypeError, Error: text})
}

// noteRemote keeps the client's candidates, used or not, as evidence for the
// network checks (at most 64).
func (p *Peer) noteRemote(cands ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cands {
		if len(p.remote) < 64 {
			p.remote = append(p.remote, c)
		}
	}
}

func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close leaves the room (the socket ended or the client said leave).
func (p *Peer) Close(reason string) { p.close(reason) }

func (p *Peer) close(reason string) {
	p.once.Do(func() {
		metrics.PeerLeft(string(p.role))
		ice := p.iceFacts()
		p.mu.Lock()
		p.closed = true
		p.ice = ice
		p.mu.Unlock()
		if c, ok := p.conn.(interface{ Close() }); ok && reason != "left" && reason != "disconnected" {
			defer c.Close()
		}
		p.room.leave(p, reason)
		if err := p.pc.Close(); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
			p.room.m.cfg.Logger.Debug("room: close peer", "err", err)
		}
	})
}

// environment returns what the candidate's page reported about itself, with
// what the server observed on the connection.
func (p *Peer) environment() *models.ConnectionReport {
	r := &models.ConnectionReport{}
	if p.ctl != nil {
		r = p.ctl.environment()
	}
	p.mu.Lock()
	r.ICERemote, r.ICESelected, r.ICERTTms = p.ice.remote, p.ice.selected, p.ice.rttMs
	p.mu.Unlock()
	return r
}

// iceReport holds the ICE facts of a connection, evidence for the network checks.
type iceReport struct {
	remote   []string // the client's candidates, trickled and peer-reflexive
	selected string   // the selected pair
	rttMs    float64  // its round-trip time (0: unknown)
}

// iceFacts reads the client's candidates (trickled and peer-reflexive), the
// selected pair and its round-trip time from the PeerConnection.
func (p *Peer) iceFacts() iceReport {
	p.mu.Lock()
	remote := append([]string(nil), p.remote...)
	p.mu.Unlock()
	var out iceReport
	if sctp := p.pc.SCTP(); sctp != nil && sctp.Transport() != nil && sctp.Transport().ICETransport() != nil {
		if pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			out.selected = pair.String()
		}
	}
	for _, st := range p.pc.GetStats() {
		switch s := st.(type) {
		case webrtc.ICECandidatePairStats:
			if s.Nominated && s.CurrentRoundTripTime > 0 {
				out.rttMs = s.CurrentRoundTripTime * 1000
			}
		case webrtc.ICECandidateStats:
			if s.Type == webrtc.StatsTypeRemoteCandidate && s.CandidateType == webrtc.ICECandidateTypePrflx && len(remote) < 80 {
				remote = append(remote, fmt.Sprintf("candidate:prflx 1 %s %d %s %d typ prflx", s.Protocol, s.Priority, s.IP, s.Port))
			}
		}
	}
	if len(remote) > 0 {
		out.remote = remote
	}
	return out
}

// SendControl sends a message to the candidate's page over the control channel.
func (p *Peer) SendControl(v any) error {
	if p.ctl == nil {
		return errors.New("room: peer has no control channel")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.ctl.send(b)
}

// Closed reports whether the peer has left.
func (p *Peer) Closed() bool { return p.isClosed() }
