// Package room runs live interviews: one room per interview, one pion
// PeerConnection per participant, the candidate's media relayed to staff (and
// the recruiter's to the candidate) without transcoding, the candidate's
// control channel, and every packet of the candidate's tracks handed to the
// interview's Analysis (internal/analysis, injected). The server is always
// the offerer.
package room

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/netguard"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// Role is a participant's part in the call.
type Role string

// Roles.
const (
	RoleCandidate Role = "candidate"
	RoleHost      Role = "host"     // the recruiter: sends and receives
	RoleObserver  Role = "observer" // a reviewer: receives only
)

// Analysis is what a room feeds with its candidate's media and control
// messages: one per interview, across reconnects. internal/analysis.Session
// implements it; Config.NewAnalysis makes it.
type Analysis interface {
	// Track returns the sink of one of the candidate's published tracks.
	Track(t media.TrackInfo) (media.PacketSink, error)
	// Shown reports the page's acknowledgement, at server time at, that it
	// drew the prompt of challenge id.
	Shown(id string, at time.Time)
	// ControlRTT reports a control-channel round trip measured at at.
	ControlRTT(at time.Time, rtt time.Duration)
	// KeyframeRequested counts a keyframe request sent to the candidate.
	KeyframeRequested()
	// CandidateLeft notes when the candidate disconnected.
	CandidateLeft(at time.Time)
	// ChallengeNow issues a challenge at once (the recruiter's button). A
	// challenge in progress is refused with an error wrapping
	// models.ErrConflict, locked challenges with one wrapping
	// models.ErrLocked (RefusalReason).
	ChallengeNow() error
	// ChallengeState returns what the recruiter's call bar shows about the
	// session's challenges.
	ChallengeState() wire.ChallengeState
	// AvoidFlashes honours the candidate's choice of no flashing for the
	// rest of the session.
	AvoidFlashes()
	// Snapshot returns the live figures shown to staff.
	Snapshot() wire.Live
	// End stops the analysis and stores its results; called once.
	End(reason string, at time.Time)
	// HandOver stops the analysis of a session that goes on at another node
	// (this one is draining): its final checkpoint is queued on the room's
	// write queue, its results are not stored. Called once, instead of End.
	HandOver(at time.Time)
}

// Outlet is how an Analysis talks back to a room's participants. *Room
// implements it.
type Outlet interface {
	SendCandidate(v any) error
	BroadcastStaff(m signal.Message)
	// ChallengeChanged says that a challenge was issued or verified: the
	// staff pages get the new challenge state.
	ChallengeChanged()
}

var _ Outlet = (*Room)(nil)

// Hooks connect a room to the rest of the application without importing it.
// Every hook is called from the write queue (Config.Writes), in order, and
// retried with backoff until it succeeds: it must be idempotent.
type Hooks struct {
	// SessionStarted is called when the candidate first connects (status → live).
	SessionStarted func(ctx context.Context, interviewID int64, at time.Time) error
	// AttemptStarted records a candidate connection under a.Key.
	AttemptStarted func(ctx context.Context, interviewID int64, a Attempt) error
	// AttemptEnded closes the attempt with this key.
	AttemptEnded func(ctx context.Context, key string, at time.Time, reason string, report *models.ConnectionReport) error
	// HandedOver is called after the final checkpoint of a room handed over
	// to another node (Room.HandOver) was written: the node gives up the
	// interview's lease, so that the route can place it elsewhere at once.
	HandedOver func(ctx context.Context, interviewID int64) error
}

// Attempt describes one candidate connection.
type Attempt struct {
	Key       string // random, unique: identifies the attempt for AttemptEnded
	BrowserID string
	IP        string
	UserAgent string
	At        time.Time
	NoFlash   bool // the candidate chose no flashing (slow colour fades) before joining
}

// Config configures the manager.
type Config struct {
	API        *webrtc.API
	ICEServers []webrtc.ICEServer
	Grace      time.Duration // how long a dropped candidate may rejoin
	Logger     *slog.Logger
	Now        func() time.Time
	// NewAnalysis makes the analysis of an interview when its candidate first
	// joins; nil: the candidate's media is only relayed.
	NewAnalysis func(interviewID int64, out Outlet) Analysis
	// Challenges is what the staff pages show of challenges before the
	// candidate joined (the analysis's plan: enabled, lock limit, count);
	// zero: challenges are off.
	Challenges wire.ChallengeState
	// Writes is the write queue of the hooks; the manager makes and closes
	// its own when nil.
	Writes *writeq.Queue
	Hooks  Hooks
	// RemoteCandidates says which of a client's ICE candidates the server may
	// contact; MaxRemoteCandidates caps how many per peer (0: 32).
	RemoteCandidates    netguard.CandidatePolicy
	MaxRemoteCandidates int
}

// Manager owns every live room.
type Manager struct {
	cfg    Config
	w      *writeq.Queue
	ownW   bool // w was made (and is closed) by the manager
	mu     sync.Mutex
	rooms  map[int64]*Room
	wg     sync.WaitGroup
	closed bool
}

// NewManager returns a manager.
func NewManager(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Minute
	}
	if cfg.MaxRemoteCandidates <= 0 {
		cfg.MaxRemoteCandidates = 32
	}
	m := &Manager{cfg: cfg, rooms: map[int64]*Room{}, w: cfg.Writes}
	if m.w == nil {
		m.w, m.ownW = writeq.New(cfg.Logger, 30*time.Minute), true
	}
	return m
}

// ErrClosed is returned when the manager is shutting down.
var ErrClosed = errors.New("room: server is shutting down")

// Get returns the live room of an interview, if any.
func (m *Manager) Get(interviewID int64) (*Room, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[interviewID]
	return r, ok
}

// ErrBusy means the server already runs its maximum of live interviews.
var ErrBusy = errors.New("room: too many live interviews on this server")

// Open returns the room of an interview, creating it when needed. With max > 0
// the room is taken for a candidate, which is refused with ErrBusy when max
// rooms already hold one; rooms only staff have opened cost no analysis and
// do not count (max <= 0: staff, no cap).
func (m *Manager) Open(interviewID int64, max int) (*Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	r, ok := m.rooms[interviewID]
	if max > 0 && (!ok || !r.forCandidate) {
		if m.candidateRooms() >= max {
			return nil, ErrBusy
		}
	}
	if !ok {
		r = newRoom(m, interviewID)
		m.rooms[interviewID] = r
	}
	if max > 0 {
		r.forCandidate = true
	}
	return r, nil
}

// Full reports whether a candidate joining this interview would exceed max.
func (m *Manager) Full(interviewID int64, max int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[interviewID]
	return max > 0 && !(ok && r.forCandidate) && m.candidateRooms() >= max
}

// candidateRooms counts the rooms taken for a candidate; m.mu is held.
func (m *Manager) candidateRooms() int {
	n := 0
	for _, r := range m.rooms {
		if r.forCandidate {
			n++
		}
	}
	return n
}

// Live returns the number of rooms.
func (m *Manager) Live() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}

// IDs returns the interviews with an open room.
func (m *Manager) IDs() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]int64, 0, len(m.rooms))
	for id := range m.rooms {
		ids = append(ids, id)
	}
	return ids
}

func (m *Manager) remove(r *Room) {
	m.mu.Lock()
	if m.rooms[r.id] == r {
		delete(m.rooms, r.id)
	}
	m.mu.Unlock()
}

// Shutdown ends every room with reason "interrupted", letting each analysis
// store what it measured, and waits for the analyses to end (and its own
// write queue, if it made one, to drain) or ctx to end.
func (m *Manager) Shutdown(ctx context.Context) { m.Drain(ctx, 0) }

// Drain is Shutdown on a node whose interviews can go on at other nodes
// (cluster.Node.Drain): up to handOff rooms taken for a candidate are handed
// over (Room.HandOver, reason "node drained"), and with handOff > 0 so are
// the rooms only staff have opened; every other room ends interrupted, as
// with Shutdown. No room is opened from the first moment. It returns how
// many candidate rooms were handed over, once their participants were told
// and the analyses ended (or ctx ended).
func (m *Manager) Drain(ctx context.Context, handOff int) int {
	m.mu.Lock()
	m.closed = true
	var moving, ending []*Room
	handed := 0
	for _, r := range m.rooms {
		switch {
		case handOff > 0 && !r.forCandidate:
			moving = append(moving, r)
		case handOff > handed:
			moving = append(moving, r)
			handed++
		default:
			ending = append(ending, r)
		}
	}
	m.mu.Unlock()
	for _, r := range ending {
		r.End(EndInterrupted)
	}
	var told sync.WaitGroup
	for _, r := range moving {
		told.Add(1)
		go func() { defer told.Done(); r.HandOver(ctx, "node drained") }()
	}
	told.Wait()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if m.ownW {
		m.w.Close(ctx)
	}
	return handed
}

// End reasons.
const (
	EndCompleted   = models.EndCompleted   // the host ended it, or the candidate left and did not return
	EndInterrupted = models.EndInterrupted // the server shut down during the interview
)

// Room is one live interview.
type Room struct {
	m            *Manager
	id           int64
	forCandidate bool // counted against the cap of live interviews (guarded by m.mu)

	mu               sync.Mutex
	peers            map[*Peer]struct{}
	candidate        *Peer
	candidateBrowser string
	tracks           map[*forwardTrack]struct{}
	analysis         Analysis
	grace            *time.Timer
	ended            bool
	started          bool       // the candidate joined at least once
	startedAt        time.Time  // when the candidate first joined (the call's elapsed time)
	presMu           sync.Mutex // serialises presence pushes (presence.go)
}

func newRoom(m *Manager, id int64) *Room {
	return &Room{m: m, id: id, peers: map[*Peer]struct{}{}, tracks: map[*forwardTrack]struct{}{}}
}

// ID is the interview's id.
func (r *Room) ID() int64 { return r.id }

// ErrInUse means another browser is connected with the same link.
var ErrInUse = errors.New("room: this interview link is in use in another browser")

// ErrEnded means the room has ended.
var ErrEnded = errors.New("room: the interview has ended")

// CandidateBusy reports whether a candidate from a different browser is connected.
func (r *Room) CandidateBusy(browserID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.candidate != nil && r.candidateBrowser != browserID
}

// Session returns the interview's analysis (nil before the candidate joined,
// or without analysis).
func (r *Room) Session() Analysis {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.analysis
}

// Join adds a participant. conn carries signaling; the returned peer must be
// fed with the client's messages (HandleMessage) and closed when the socket ends.
func (r *Room) Join(ctx context.Context, role Role, conn Sender, a Attempt) (*Peer, error) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return nil, ErrEnded
	}
	if role == RoleCandidate {
		if r.candidate != nil {
			if r.candidateBrowser != a.BrowserID {
				r.mu.Unlock()
				return nil, ErrInUse
			}
			old := r.candidate // the same browser reconnecting (reload): replace
			r.candidate = nil
			r.mu.Unlock()
			old.close("replaced")
			r.mu.Lock()
		}
		if r.grace != nil {
			r.grace.Stop()
			r.grace = nil
		}
	}
	r.mu.Unlock()

	p, err := newPeer(r, role, conn)
	if err != nil {
		r.closeIfUnused()
		return nil, err
	}
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		p.close("ended")
		return nil, ErrEnded
	}
	r.peers[p] = struct{}{}
	first := false
	if role == RoleCandidate {
		r.candidate, r.candidateBrowser = p, a.BrowserID
		if r.analysis == nil && r.m.cfg.NewAnalysis != nil {
			r.analysis = r.m.cfg.NewAnalysis(r.id, r)
			r.m.wg.Add(1)
		}
		if a.NoFlash && r.analysis != nil {
			r.analysis.AvoidFlashes()
		}
		first = !r.started
		if first {
			r.started, r.startedAt = true, r.m.cfg.Now()
		}
	}
	r.mu.Unlock()

	h := r.m.cfg.Hooks
	if role == RoleCandidate {
		now := r.m.cfg.Now()
		if first && h.SessionStarted != nil {
			r.m.w.Add("session start", r.id, func(ctx context.Context) error { return h.SessionStarted(ctx, r.id, now) })
		}
		if h.AttemptStarted != nil {
			a.Key = newKey()
			p.attemptKey = a.Key
			r.m.w.Add("attempt start", r.id, func(ctx context.Context) error { return h.AttemptStarted(ctx, r.id, a) })
		}
		r.broadcast(signal.Message{T: signal.TypePeer, Data: []byte(`{"event":"candidate_joined"}`)}, p)
	}
	r.pushPresence()
	if role != RoleCandidate {
		r.pushChallengeState()
	}
	r.syncTracks()
	return p, nil
}

// leave removes a peer; a candidate who leaves starts the rejoin grace period.
func (r *Room) leave(p *Peer, reason string) {
	r.mu.Lock()
	if _, ok := r.peers[p]; !ok {
		r.mu.Unlock()
		return
	}
	delete(r.peers, p)
	for t := range r.tracks {
		if t.owner == p {
			delete(r.tracks, t)
		}
	}
	wasCandidate := r.candidate == p
	if wasCandidate {
		r.candidate = nil
		if r.analysis != nil {
			r.analysis.CandidateLeft(r.m.cfg.Now())
		}
		if !r.ended && reason != "replaced" {
			r.grace = time.AfterFunc(r.m.cfg.Grace, func() { r.End(EndCompleted) })
		}
	}
	empty := len(r.peers) == 0 && !r.started
	r.mu.Unlock()
	if wasCandidate {
		if h := r.m.cfg.Hooks.AttemptEnded; h != nil && p.attemptKey != "" {
			key, report, at := p.attemptKey, p.environment(), r.m.cfg.Now()
			r.m.w.Add("attempt end", r.id, func(ctx context.Context) error { return h(ctx, key, at, reason, report) })
		}
		if reason != "replaced" {
			r.broadcast(signal.Message{T: signal.TypePeer, Data: []byte(`{"event":"candidate_left"}`)}, nil)
		}
	}
	r.pushPresence()
	r.syncTracks()
	if empty {
		r.closeIfUnused()
	}
}

// closeIfUnused removes a room nobody is in and no candidate ever joined
// (staff opened the call page and left, or a join failed): nothing to store.
func (r *Room) closeIfUnused() {
	r.mu.Lock()
	if len(r.peers) == 0 && !r.started && !r.ended {
		r.ended = true
		r.mu.Unlock()
		r.m.remove(r)
		return
	}
	r.mu.Unlock()
}

// End finishes the interview: peers are told and closed, and the analysis
// ends and stores its results (with retries) in the background.
func (r *Room) End(reason string) { r.finish(reason, signal.TypeEnded) }

// HandOver ends the room on this node so that its interview goes on at
// another one (this node is draining, see Manager.Drain): the room leaves
// the manager's open rooms, the analysis stops and queues its final
// checkpoint instead of its results (Analysis.HandOver), the interview's
// lease is given up once that checkpoint is written (Hooks.HandedOver, on
// the same ordered write queue), and only then are the peers told "moved"
// (their pages reconnect through the route, which now places the interview
// on another node, where the session goes on from the checkpoint) and
// closed. When ctx ends before the lease was given up they are told anyway:
// the lease then expires and the route reaps it, as after a node's death.
func (r *Room) HandOver(ctx context.Context, reason string) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	if r.grace != nil {
		r.grace.Stop()
	}
	a := r.analysis
	r.mu.Unlock()
	r.m.remove(r)
	if a != nil {
		a.HandOver(r.m.cfg.Now())
		r.m.wg.Done()
	}
	given := make(chan struct{})
	if h := r.m.cfg.Hooks.HandedOver; h != nil {
		var once sync.Once
		r.m.w.Add("hand over", r.id, func(ctx context.Context) error {
			err := h(ctx, r.id)
			if err == nil || errors.Is(err, writeq.ErrRefused) {
				once.Do(func() { close(given) })
			}
			return err
		})
	} else {
		close(given)
	}
	select {
	case <-given:
	case <-ctx.Done():
		r.m.cfg.Logger.Error("room: lease not given up before the shutdown deadline; the interview moves once it expires", "interview", r.id)
	}
	r.tell(signal.TypeMoved, reason)
}

// EndMoved ends the room on this node because the interview goes on on
// another one (this node was fenced off or the interview taken over): peers
// are told "moved" (their pages reconnect through the route) and closed, and
// the analysis ends as with End. Whatever it then tries to store for the
// interview is the caller's to refuse (the lease check of the writes).
func (r *Room) EndMoved(reason string) { r.finish(reason, signal.TypeMoved) }

func (r *Room) finish(reason, tell string) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	if r.grace != nil {
		r.grace.Stop()
	}
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		peers = append(peers, p)
	}
	a := r.analysis
	r.mu.Unlock()
	tellPeers(peers, tell, reason)
	r.m.remove(r)
	if a == nil {
		return
	}
	go func() {
		defer r.m.wg.Done()
		a.End(reason, r.m.cfg.Now())
	}()
}

// tell sends every peer the end of the room (signal.TypeEnded or
// signal.TypeMoved, with reason) and closes it.
func (r *Room) tell(t, reason string) {
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	tellPeers(peers, t, reason)
}

func tellPeers(peers []*Peer, t, reason string) {
	for _, p := range peers {
		_ = p.conn.Send(signal.Message{T: t, Data: []byte(`{"reason":"` + reason + `"}`)})
		p.close(map[string]string{signal.TypeEnded: "ended", signal.TypeMoved: reason}[t])
	}
}

// broadcast sends m to every peer except skip.
func (r *Room) broadcast(m signal.Message, skip *Peer) {
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		if p != skip {
			peers = append(peers, p)
		}
	}
	r.mu.Unlock()
	for _, p := range peers {
		_ = p.conn.Send(m)
	}
}

// BroadcastStaff sends m to the host and observers.
func (r *Room) BroadcastStaff(m signal.Message) {
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		if p.role != RoleCandidate {
			peers = append(peers, p)
		}
	}
	r.mu.Unlock()
	for _, p := range peers {
		_ = p.conn.Send(m)
	}
}

// SendCandidate sends v to the candidate's page over the control channel.
func (r *Room) SendCandidate(v any) error {
	r.mu.Lock()
	p := r.candidate
	r.mu.Unlock()
	if p == nil {
		return ErrNoCandidate
	}
	return p.SendControl(v)
}

// ErrNoCandidate means no candidate is connected.
var ErrNoCandidate = errors.New("room: the candidate is not connected")

// ChallengeNow issues a challenge at once (the recruiter's button).
func (r *Room) ChallengeNow() error {
	if err := r.canChallenge(); err != nil {
		return err
	}
	a := r.Session()
	if a == nil {
		return ErrNoCandidate
	}
	return a.ChallengeNow()
}

// receives reports whether a peer of role `to` gets tracks published by `from`.
func receives(to, from Role) bool {
	switch to {
	case RoleCandidate:
		return from == RoleHost
	case RoleHost:
		return from == RoleCandidate
	case RoleObserver:
		return from == RoleCandidate || from == RoleHost
	}
	return false
}

// syncTracks makes every peer send exactly the tracks it should receive, and
// renegotiates peers whose set changed.
func (r *Room) syncTracks() {
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		peers = append(peers, p)
	}
	tracks := make([]*forwardTrack, 0, len(r.tracks))
	for t := range r.tracks {
		tracks = append(tracks, t)
	}
	r.mu.Unlock()
	for _, p := range peers {
		var want []*forwardTrack
		for _, t := range tracks {
			if t.owner != p && receives(p.role, t.owner.role) {
				want = append(want, t)
			}
		}
		if p.setTracks(want) {
			p.negotiate()
		}
	}
}

func (r *Room) addTrack(t *forwardTrack) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.tracks[t] = struct{}{}
	r.mu.Unlock()
	r.syncTracks()
}

// newKey returns a random identifier for an attempt.
func newKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
