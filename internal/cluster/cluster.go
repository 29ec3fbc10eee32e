// Package cluster makes a livecheck server one node among several sharing a
// database: it registers the node (id, public URL, media address, capacity),
// renews a heartbeat and the node's interview leases, holds the lease of each
// interview live on the node, and, as a River periodic job, interrupts the
// interviews of nodes that died (their leases expired). docs/SCALING.md
// describes the model.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// Store is what a node needs from the database; *store.Store satisfies it.
type Store interface {
	RegisterNode(ctx context.Context, n store.Node) error
	HeartbeatNode(ctx context.Context, id string, live int, ttl time.Duration) (int64, error)
	SetNodeDraining(ctx context.Context, id string) error
	FreeSlots(ctx context.Context, id string, alive time.Duration) (int, error)
	DeregisterNode(ctx context.Context, id string) error
	AcquireLease(ctx context.Context, interviewID int64, node string, ttl time.Duration) (*store.Lease, error)
	ReleaseLease(ctx context.Context, interviewID int64, node string) error
	ReleaseIdleLeases(ctx context.Context, node string, keep []int64, grace time.Duration) (int64, error)
	InterviewLease(ctx context.Context, interviewID int64) (*store.Lease, error)
	Node(ctx context.Context, id string) (*store.Node, error)
	Nodes(ctx context.Context) ([]*store.Node, error)
	PickNode(ctx context.Context, alive time.Duration) (*store.Node, error)
	PlaceInterview(ctx context.Context, interviewID int64, alive, ttl time.Duration) (*store.Node, error)
	InterruptExpiredLeases(ctx context.Context, now time.Time) ([]int64, error)
	YieldLease(ctx context.Context, tok store.LeaseToken, now time.Time, reason string) (bool, error)
	OtherNodes(ctx context.Context, id string) (int, error)
}

var _ Store = (*store.Store)(nil)

// Config describes this node. Zero fields take the defaults shown.
type Config struct {
	Info      store.Node    // ID, PublicURL, MediaAddress, Capacity
	Heartbeat time.Duration // 10 s; a lease expires after 3 heartbeats without renewal
	Live      func() int    // rooms open on this node (0 when nil)
	// Holding lists the interviews the node holds: a room open or a session
	// still being stored. Its other leases (joins routed here that never
	// came) are given up after ReserveGrace.
	Holding      func() []int64
	ReserveGrace time.Duration // 2 minutes
	// Open lists the interviews with a room open on the node; Lost is called
	// for each of them whose lease another node holds now (this node was
	// taken for dead, e.g. cut from the database for three heartbeats, and
	// the interview moved): the room must end. Both optional.
	Open func() []int64
	Lost func(interviewID int64)
	// Fence is called when the node could not renew its leases for so long
	// that they may expire (FenceDue): the rooms of the interviews given must
	// close and tell their participants to reconnect (the route then sends
	// them to the interview's next owner). From then until the interview's
	// next session start here, writes under its lease are refused (Token).
	Fence func(interviewIDs []int64)
	// FenceMargin is how long before the earliest possible expiry of its
	// leases the node fences itself: Heartbeat/4.
	FenceMargin time.Duration
	Now         func() time.Time
	Logger      *slog.Logger // discard
}

// Node is this server's membership of the cluster.
type Node struct {
	st  Store
	cfg Config

	mu      sync.Mutex
	renewed time.Time                   // when the last heartbeat that renewed the leases was sent
	tokens  map[int64]store.LeaseToken  // tenures of the interviews whose sessions run here
	fenced  map[int64]*store.LeaseToken // interviews fenced off, with their tenure (nil: none known)
	handed  map[int64]bool              // interviews handed over to another node (HandOver): writes refused
	fencing bool                        // fenced since the last renewal
	alone   bool                        // no other node registered at the last renewal: nobody to take over
	drain   bool                        // draining (Drain): takes no interview, takes no lease back
}

// New returns the node; call Register, then Run.
func New(st Store, cfg Config) *Node {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.Live == nil {
		cfg.Live = func() int { return 0 }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReserveGrace <= 0 {
		cfg.ReserveGrace = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FenceMargin <= 0 {
		cfg.FenceMargin = cfg.Heartbeat / 4
	}
	return &Node{st: st, cfg: cfg, renewed: cfg.Now(), tokens: map[int64]store.LeaseToken{}, fenced: map[int64]*store.LeaseToken{},
		handed: map[int64]bool{}}
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.Info.ID }

// LeaseTTL is how long a lease lasts without renewal: three heartbeats.
func (n *Node) LeaseTTL() time.Duration { return 3 * n.cfg.Heartbeat }

// Register records the node (again, after a restart).
func (n *Node) Register(ctx context.Context) error {
	info := n.cfg.Info
	info.Live = n.cfg.Live()
	if err := n.st.RegisterNode(ctx, info); err != nil {
		return fmt.Errorf("cluster: register node %s: %w", info.ID, err)
	}
	others, err := n.st.OtherNodes(ctx, n.ID())
	if err != nil {
		return fmt.Errorf("cluster: register node %s: %w", info.ID, err)
	}
	n.mu.Lock()
	n.alone = others == 0
	n.mu.Unlock()
	return nil
}

// URL is where browsers reach this node.
func (n *Node) URL() string { return n.cfg.Info.PublicURL }

// Heartbeat renews the node's registration and every lease it holds, and
// gives up reservations nobody used; a node whose row was removed registers
// again. After a fence (the database was out of reach) it first gives up the
// leases of the interviews it fenced off, which then go on elsewhere.
func (n *Node) Heartbeat(ctx context.Context) error {
	sent := n.cfg.Now()
	_, err := n.st.HeartbeatNode(ctx, n.ID(), n.cfg.Live(), n.LeaseTTL())
	if errors.Is(err, models.ErrNotFound) {
		err = n.Register(ctx)
	}
	if err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	others, err := n.st.OtherNodes(ctx, n.ID())
	if err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	n.renewedAt(sent, others == 0)
	if err := n.yieldFenced(ctx); err != nil {
		return err
	}
	if n.cfg.Holding != nil {
		if _, err := n.st.ReleaseIdleLeases(ctx, n.ID(), n.cfg.Holding(), n.cfg.ReserveGrace); err != nil {
			return fmt.Errorf("cluster: heartbeat: %w", err)
		}
	}
	return n.checkOpen(ctx)
}

// checkOpen makes sure the node holds the lease of every open room: a
// missing one is taken again, one another node holds is reported lost.
//
// A draining node does neither: the rooms it hands over give their leases up
// (HandOver), and taking one back would keep the interview from its next node.
func (n *Node) checkOpen(ctx context.Context) error {
	if n.cfg.Open == nil || n.cfg.Lost == nil || n.Draining() {
		return nil
	}
	for _, id := range n.cfg.Open() {
		err := n.Acquire(ctx, id)
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			n.cfg.Logger.Error("cluster: another node took over an interview live here: its room ends", "node", n.ID(), "interview", id, "err", err)
			n.cfg.Lost(id)
		case errors.Is(err, models.ErrNotFound):
			// the interview was erased meanwhile: nothing to hold
		case err != nil:
			return fmt.Errorf("cluster: heartbeat: %w", err)
		}
	}
	return nil
}

// FenceDue says whether a node whose last lease renewal was sent at renewed
// must fence itself at now. A renewal's lease lasts ttl from the database's
// clock at its transaction, which is not earlier than when the node sent it,
// so no lease of the node can expire before renewed+ttl: that is the bound
// the node knows on its own clock without trusting the database's. It fences
// margin before it, so its rooms are closed before another node may take an
// interview over. A slow database does not fence the node as long as some
// renewal sent within the last ttl-margin succeeds: with one heartbeat in
// flight at a time, round trips up to (ttl-margin)/2 (13.75 s with the
// default 10 s heartbeat) never fence.
func FenceDue(renewed, now time.Time, ttl, margin time.Duration) bool {
	return now.Sub(renewed) >= ttl-margin
}

// renewedAt records a successful renewal sent at sent, and whether the node
// was alone then.
func (n *Node) renewedAt(sent time.Time, alone bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if sent.After(n.renewed) {
		n.renewed = sent
	}
	n.alone = alone
}

// CheckFence fences the node off its interviews when FenceDue: every open
// room is handed to Config.Fence once, and the tenures of their interviews
// are revoked (sessions whose rooms had already ended keep theirs: their
// pending writes are stored if the lease is still the node's when the
// database returns, refused otherwise). It reports whether it fenced now.
// Run calls it every FenceMargin/2.
//
// A node that was alone at its last renewal (no other node registered and
// not draining: a single server) does not fence: no node can take its
// interviews over, and its calls go on through the outage as a
// single server's always did. Should a node start meanwhile and take one
// over, the writes are still refused by the lease check, and the room ends
// at the first heartbeat after the database returns (Config.Lost).
func (n *Node) CheckFence() bool {
	var open []int64
	if n.cfg.Open != nil {
		open = n.cfg.Open()
	}
	n.mu.Lock()
	now := n.cfg.Now()
	if n.fencing || n.alone || !FenceDue(n.renewed, now, n.LeaseTTL(), n.cfg.FenceMargin) {
		n.mu.Unlock()
		return false
	}
	n.fencing = true
	since := n.renewed
	var ids []int64
	for _, id := range open {
		if _, ok := n.fenced[id]; ok {
			continue
		}
		if tok, ok := n.tokens[id]; ok {
			n.fenced[id] = &tok
			delete(n.tokens, id)
		} else {
			n.fenced[id] = nil
		}
		ids = append(ids, id)
	}
	n.mu.Unlock()
	n.cfg.Logger.Error("cluster: leases not renewed in time, node fenced: its rooms close and their candidates reconnect to the next owner",
		"node", n.ID(), "last_renewal_sent", since, "lease_ttl", n.LeaseTTL(), "margin", n.cfg.FenceMargin, "interviews", ids)
	if n.cfg.Fence != nil && len(ids) > 0 {
		n.cfg.Fence(ids)
	}
	return true
}

// Fenced reports whether the node is fenced off (no lease renewal since it
// fenced itself).
func (n *Node) Fenced() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fencing
}

// yieldFenced runs after a successful renewal: the leases of the interviews
// fenced off are given up (store.YieldLease: the interview is marked
// interrupted unless another node holds it now), and the node takes new
// interviews again.
func (n *Node) yieldFenced(ctx context.Context) error {
	n.mu.Lock()
	was := n.fencing
	n.fencing = false
	var toks []store.LeaseToken
	for _, tok := range n.fenced {
		if tok != nil {
			toks = append(toks, *tok)
		}
	}
	n.mu.Unlock()
	for _, tok := range toks {
		yielded, err := n.st.YieldLease(ctx, tok, n.cfg.Now(), "node fenced")
		if err != nil {
			n.mu.Lock()
			n.fencing = n.fencing || was
			n.mu.Unlock()
			return fmt.Errorf("cluster: yield fenced interview %d: %w", tok.InterviewID, err)
		}
		n.mu.Lock()
		if cur, ok := n.fenced[tok.InterviewID]; ok && cur != nil && *cur == tok {
			n.fenced[tok.InterviewID] = nil // yielded or taken over: nothing left to give up
		}
		n.mu.Unlock()
		n.cfg.Logger.Warn("cluster: fenced interview given up", "node", n.ID(), "interview", tok.InterviewID, "still_ours", yielded)
	}
	if was {
		n.cfg.Logger.Warn("cluster: database reachable again: node renewed, takes interviews again", "node", n.ID())
	}
	return nil
}

// Token returns the tenure under which this node writes an interview's
// session (store.WithLease): the lease taken when its session started here,
// or, when none is known (the session's first checkpoint is queued before its
// start), the lease acquired now. It fails with store.ErrLeaseLost when the
// interview was fenced off here (until its next session start here), and with
// store.ErrLeaseHeld when another node holds it.
func (n *Node) Token(ctx context.Context, interviewID int64) (store.LeaseToken, error) {
	n.mu.Lock()
	tok, ok := n.tokens[interviewID]
	_, fenced := n.fenced[interviewID]
	handed := n.handed[interviewID]
	n.mu.Unlock()
	switch {
	case ok:
		return tok, nil
	case fenced:
		return store.LeaseToken{}, fmt.Errorf("cluster: interview %d was fenced off on node %s: %w", interviewID, n.ID(), store.ErrLeaseLost)
	case handed:
		return store.LeaseToken{}, fmt.Errorf("cluster: interview %d was handed over by node %s: %w", interviewID, n.ID(), store.ErrLeaseLost)
	}
	l, err := n.acquire(ctx, interviewID, false)
	if err != nil {
		return store.LeaseToken{}, err
	}
	return l.Token(), nil
}

// FencedOff reports whether the interview was fenced off here and has not
// started a session here since.
func (n *Node) FencedOff(interviewID int64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, fenced := n.fenced[interviewID]
	return fenced
}

// StartSession takes (or renews) the lease of an interview whose session
// starts here and records its tenure for Token; a fence of the interview
// ends.
func (n *Node) StartSession(ctx context.Context, interviewID int64) error {
	_, err := n.acquire(ctx, interviewID, true)
	return err
}

// EndSession forgets the tenure of an interview whose session ended here.
func (n *Node) EndSession(interviewID int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.tokens, interviewID)
}

func (n *Node) acquire(ctx context.Context, interviewID int64, start bool) (*store.Lease, error) {
	l, err := n.st.AcquireLease(ctx, interviewID, n.ID(), n.LeaseTTL())
	if errors.Is(err, store.ErrLeaseHeld) && l != nil {
		return nil, fmt.Errorf("cluster: interview %d is held by node %s: %w", interviewID, l.NodeID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: lease of interview %d: %w", interviewID, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, fenced := n.fenced[interviewID]; fenced && !start {
		return nil, fmt.Errorf("cluster: interview %d was fenced off on node %s: %w", interviewID, n.ID(), store.ErrLeaseLost)
	}
	if n.handed[interviewID] && !start {
		return nil, fmt.Errorf("cluster: interview %d was handed over by node %s: %w", interviewID, n.ID(), store.ErrLeaseLost)
	}
	delete(n.fenced, interviewID)
	delete(n.handed, interviewID)
	n.tokens[interviewID] = l.Token()
	return l, nil
}

// ErrNoRoom means no live node has room for another interview.
var ErrNoRoom = fmt.Errorf("cluster: every node is full or gone: %w", models.ErrNotFound)

// alive is how recent a node's heartbeat must be for a new interview to go
// there: as long as its leases last (three periods), so that a node slowed
// down by a loaded machine is not skipped while it still holds its interviews.
func (n *Node) alive() time.Duration { return n.LeaseTTL() }

// Route returns the node an interview's participants connect to: the node
// holding its lease, or else the least-loaded live node with room, which is
// given the lease at once (a reservation: the candidate and the staff who
// join next all reach the same node). An expired lease (its node died) is
// reaped first, so the interview is marked interrupted before it goes on
// elsewhere. ErrNoRoom when every node is full or gone.
func (n *Node) Route(ctx context.Context, interviewID int64) (*store.Node, error) {
	for try := 0; try < 3; try++ {
		l, err := n.st.InterviewLease(ctx, interviewID)
		switch {
		case err == nil && !l.Expired:
			node, err := n.st.Node(ctx, l.NodeID)
			if err == nil {
				return node, nil
			}
			if !errors.Is(err, models.ErrNotFound) {
				return nil, fmt.Errorf("cluster: route interview %d: %w", interviewID, err)
			}
			// A lease without its node (removed by hand): taken over below once expired.
			return nil, fmt.Errorf("cluster: route interview %d: node %s is gone: %w", interviewID, l.NodeID, ErrNoRoom)
		case err == nil && l.Expired:
			ids, err := n.st.InterruptExpiredLeases(ctx, n.cfg.Now())
			if err != nil {
				return nil, fmt.Errorf("cluster: route interview %d: %w", interviewID, err)
			}
			if len(ids) > 0 {
				n.cfg.Logger.Warn("cluster: interviews of a lost node marked interrupted", "interviews", ids)
			}
		case !errors.Is(err, models.ErrNotFound):
			return nil, fmt.Errorf("cluster: route interview %d: %w", interviewID, err)
		}
		pick, err := n.st.PlaceInterview(ctx, interviewID, n.alive(), n.LeaseTTL())
		switch {
		case err == nil:
			return pick, nil
		case errors.Is(err, store.ErrLeaseHeld):
			// Another join routed it at the same moment: follow that lease.
		case errors.Is(err, models.ErrNotFound):
			return nil, ErrNoRoom
		default:
			return nil, fmt.Errorf("cluster: route interview %d: %w", interviewID, err)
		}
	}
	return nil, fmt.Errorf("cluster: route interview %d: the lease kept changing hands", interviewID)
}

// Origins are the origins (scheme://host[:port]) of the registered nodes'
// public URLs, the browsers' places to connect to.
func (n *Node) Origins(ctx context.Context) ([]string, error) {
	nodes, err := n.st.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: origins: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, nd := range append(nodes, &n.cfg.Info) {
		u, err := url.Parse(nd.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// Run sends a heartbeat every period until ctx ends. Failures (the database
// unreachable) are logged and retried at the next beat; the leases last
// three periods, so one missed beat loses nothing.
//
// A watchdog checks FenceDue every FenceMargin/2 while it runs, independently
// of the heartbeat (which may hang on a cut connection; each is given up
// after a lease's length), so the node fences itself at most FenceMargin/2
// late, still before its leases may expire.
func (n *Node) Run(ctx context.Context) {
	go n.watch(ctx)
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, cancel := context.WithTimeout(ctx, n.LeaseTTL())
		err := n.Heartbeat(hctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("cluster: heartbeat failed", "node", n.ID(), "err", err)
		}
	}
}

// watch runs CheckFence until ctx ends.
func (n *Node) watch(ctx context.Context) {
	t := time.NewTicker(max(n.cfg.FenceMargin/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.CheckFence()
		}
	}
}

// Acquire takes the lease of an interview for this node (or renews it). It
// returns store.ErrLeaseHeld, with the holder in the error, when another
// live node holds it.
func (n *Node) Acquire(ctx context.Context, interviewID int64) error {
	l, err := n.st.AcquireLease(ctx, interviewID, n.ID(), n.LeaseTTL())
	if errors.Is(err, store.ErrLeaseHeld) && l != nil {
		return fmt.Errorf("cluster: interview %d is held by node %s: %w", interviewID, l.NodeID, err)
	}
	if err != nil {
		return fmt.Errorf("cluster: lease of interview %d: %w", interviewID, err)
	}
	return nil
}

// Release gives up the lease of an interview whose session ended here.
func (n *Node) Release(ctx context.Context, interviewID int64) error {
	if err := n.st.ReleaseLease(ctx, interviewID, n.ID()); err != nil {
		return fmt.Errorf("cluster: release interview %d: %w", interviewID, err)
	}
	return nil
}

// Drain starts a graceful stop: the node is marked draining, here (the
// heartbeat takes no lease back, see checkOpen) and in the nodes table
// (placement skips it: store.PickNode), and Drain returns how many
// interviews the other live nodes have room for (store.FreeSlots): how many
// of its live interviews the node may hand over (HandOver) rather than end.
// 0 when no other node is alive and not draining: the node's interviews end
// here, as a single server's do.
func (n *Node) Drain(ctx context.Context) (int, error) {
	n.mu.Lock()
	n.drain = true
	n.mu.Unlock()
	if err := n.st.SetNodeDraining(ctx, n.ID()); err != nil {
		return 0, fmt.Errorf("cluster: drain: %w", err)
	}
	free, err := n.st.FreeSlots(ctx, n.ID(), n.alive())
	if err != nil {
		return 0, fmt.Errorf("cluster: drain: %w", err)
	}
	return free, nil
}

// Draining reports whether Drain was called.
func (n *Node) Draining() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.drain
}

// HandOver gives up the lease of an interview whose session this draining
// node hands to another one (its final checkpoint stored before): the lease
// is deleted at once rather than left to expire, so the route places the
// interview on another node as soon as its participants reconnect, and, as
// when a node fenced off an interview gives it up (store.YieldLease), the
// interview is marked interrupted and its open attempts are closed ("node
// drained") until the session goes on elsewhere. From then on the node's
// writes under the interview's lease are refused (Token). Idempotent: a
// lease already given up, or another node's, is left alone.
func (n *Node) HandOver(ctx context.Context, interviewID int64) error {
	n.mu.Lock()
	tok, ok := n.tokens[interviewID]
	n.mu.Unlock()
	if !ok { // no session started here (staff only, or a reservation): the lease as it is
		l, err := n.st.InterviewLease(ctx, interviewID)
		switch {
		case err == nil && l.NodeID == n.ID():
			tok, ok = l.Token(), true
		case err != nil && !errors.Is(err, models.ErrNotFound):
			return fmt.Errorf("cluster: hand over interview %d: %w", interviewID, err)
		}
	}
	if ok {
		if _, err := n.st.YieldLease(ctx, tok, n.cfg.Now(), "node drained"); err != nil {
			return fmt.Errorf("cluster: hand over interview %d: %w", interviewID, err)
		}
	}
	n.mu.Lock()
	delete(n.tokens, interviewID)
	n.handed[interviewID] = true
	n.mu.Unlock()
	return nil
}

// Leave marks the node draining and then removes it with its leases (a
// clean shutdown, after its rooms have ended).
func (n *Node) Leave(ctx context.Context) error {
	if err := n.st.SetNodeDraining(ctx, n.ID()); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	if err := n.st.DeregisterNode(ctx, n.ID()); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	return nil
}

// ReaperStore is what the reaper needs; *store.Store satisfies it.
type ReaperStore interface {
	InterruptExpiredLeases(ctx context.Context, now time.Time) ([]int64, error)
}

// ReapArgs is the River job that interrupts the interviews of dead nodes.
type ReapArgs struct{}

// Kind implements river.JobArgs.
func (ReapArgs) Kind() string { return "cluster_reap" }

// InsertOpts implements river.JobArgsWithInsertOpts: one reap at a time,
// not retried (the next period reaps again).
func (ReapArgs) InsertOpts() river.InsertOpts {
	return jobs.OneAtATime(1)
}

// ReapWorker marks interrupted every live interview whose node stopped
// renewing its lease; the candidate may rejoin on another node.
type ReapWorker struct {
	river.WorkerDefaults[ReapArgs]
	St     ReaperStore
	Now    func() time.Time
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *ReapWorker) Work(ctx context.Context, _ *river.Job[ReapArgs]) error {
	ids, err := w.St.InterruptExpiredLeases(ctx, w.Now())
	if err != nil {
		return fmt.Errorf("cluster: reap: %w", err)
	}
	if len(ids) > 0 && w.Logger != nil {
		w.Logger.Warn("cluster: interviews of a lost node marked interrupted", "interviews", ids)
	}
	return nil
}

// PeriodicReap enqueues a reap every period (on the cluster's River leader).
func PeriodicReap(period time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(period),
		func() (river.JobArgs, *river.InsertOpts) { return ReapArgs{}, nil },
		&river.PeriodicJobOpts{ID: "cluster_reap", RunOnStart: true})
}
