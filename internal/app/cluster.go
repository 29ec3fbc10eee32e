package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/cluster"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/rescore"
	"github.com/livecheck/livecheck/internal/retention"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/internal/writeq"
)

// background is the node's share of the cluster: its River client (webhook
// deliveries, the retention purge, re-scoring, the reaper of dead nodes'
// interviews) and its registration with leases.
type background struct {
	queue *jobs.Queue
	node  *cluster.Node
}

// newBackground builds the River client with every worker, on st (a store
// without a job queue: the workers insert no job), and the node.
// nodeHooks are what the node learns from the rooms (cluster.Config).
type nodeHooks struct {
	live    func() int
	holding func() []int64
	open    func() []int64
	lost    func(int64)
	fence   func([]int64)
}

func newBackground(pool *pgxpool.Pool, st *store.Store, cfg *config.Config, now func() time.Time, log *slog.Logger, h nodeHooks) (*background, error) {
	if pool == nil {
		return nil, errors.New("app: background jobs need a *pgxpool.Pool as the database")
	}
	node := cluster.New(st, cluster.Config{Info: store.Node{ID: cfg.NodeID, PublicURL: cfg.NodeURL,
		MediaAddress: mediaAddress(cfg), Capacity: cfg.MaxLive}, Heartbeat: cfg.NodeHeartbeat, Live: h.live, Holding: h.holding,
		Open: h.open, Lost: h.lost, Fence: h.fence, Now: now, Logger: log})
	workers := river.NewWorkers()
	river.AddWorker(workers, webhook.NewDeliveryWorker(st, webhook.Options{Client: webhook.NewClient(10*time.Second, cfg.WebhookPrivate),
		Now: now, Logger: log}))
	river.AddWorker(workers, &retention.PurgeWorker{P: &retention.Purger{Store: st, Days: cfg.RetentionDays, Now: now, Logger: log}})
	river.AddWorker(workers, &cluster.ReapWorker{St: st, Now: now, Logger: log})
	river.AddWorker(workers, &rescore.Worker{St: st, ReuseDays: cfg.ReuseDays, Logger: log})
	q, err := jobs.New(pool, jobs.Config{Workers: workers, ID: cfg.NodeID, Logger: log.With("component", "river"),
		Periodic: []*river.PeriodicJob{retention.PeriodicPurge(time.Hour), cluster.PeriodicReap(node.LeaseTTL())}})
	if err != nil {
		return nil, err
	}
	return &background{queue: q, node: node}, nil
}

// start registers the node and starts working jobs; run heartbeats until ctx ends.
func (b *background) start(ctx context.Context) error {
	if err := b.node.Register(ctx); err != nil {
		return err
	}
	return b.queue.Start(ctx)
}

// stop lets running jobs finish (until ctx ends) and removes the node.
func (b *background) stop(ctx context.Context, log *slog.Logger) {
	if err := b.queue.Stop(ctx); err != nil {
		log.Warn("background jobs did not stop cleanly", "err", err)
	}
	if err := b.node.Leave(ctx); err != nil {
		log.Warn("node did not deregister", "err", err)
	}
}

// mediaAddress describes where this node's WebRTC media is reached: the
// public 1:1 NAT addresses (or "host") and the UDP port range.
func mediaAddress(cfg *config.Config) string {
	host := strings.Join(cfg.NAT1To1IPs, ",")
	if host == "" {
		host = "host"
	}
	if cfg.UDPPortMin == 0 && cfg.UDPPortMax == 0 {
		return host + " udp any"
	}
	return fmt.Sprintf("%s udp %d-%d", host, cfg.UDPPortMin, cfg.UDPPortMax)
}

// holding counts the sessions of each interview started on this node and not
// yet stored: the node keeps their leases (with its open rooms).
type holding struct {
	mu  sync.Mutex
	ids map[int64]int
}

func (h *holding) add(id int64, d int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids[id] += d; h.ids[id] <= 0 {
		delete(h.ids, id)
	}
}

// drop forgets the sessions of an interview handed over to another node:
// none of them will be stored here.
func (h *holding) drop(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ids, id)
}

// list returns the held interviews and rooms, each once.
func (h *holding) list(rooms []int64) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := rooms
	for id := range h.ids {
		if !slices.Contains(rooms, id) {
			out = append(out, id)
		}
	}
	return out
}

// leased makes the node hold the lease of every interview live on it and
// write each session's rows under that lease. The join routing (httpapi,
// cluster.Node.Route) gives the lease to the node before anyone connects; it
// is renewed when the session starts, before the interview is marked live
// (the room's SessionStarted), and released after the session is stored (the
// analysis's SessionEnded) unless staff are still in the room (then the
// heartbeat gives it up once the room closes).
//
// The session's checkpoints, challenge results and its end are written under
// the tenure the node holds (cluster.Node.Token, store.WithLease): when
// another node took the interview over, or this node fenced itself off it
// (its database was out of reach for as long as a lease lasts), the write is
// refused for good (writeq.ErrRefused, logged), so a node that lost an
// interview never overwrites what its next owner stores. A refused session
// end leaves the checkpoint: the session goes on at the next owner.
//
// A room handed over by a draining node (room.Room.HandOver) gives the lease
// up once its final checkpoint is written (cluster.Node.HandOver); its
// session is not stored here.
func leased(h room.Hooks, s analysis.Store, node *cluster.Node, held *holding, roomOpen func(int64) bool, log *slog.Logger) (room.Hooks, analysis.Store) {
	started, ended, result, checkpoint := h.SessionStarted, s.SessionEnded, s.ChallengeResult, s.Checkpoint
	// under runs fn under the interview's lease, refusing it for good when
	// the node does not hold the lease.
	under := func(ctx context.Context, what string, id int64, fn func(ctx context.Context) error) error {
		tok, err := node.Token(ctx, id)
		if err == nil {
			err = fn(store.WithLease(ctx, tok))
		}
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrLeaseHeld) {
			log.Error("write refused: this node does not hold the interview's lease", "what", what, "interview", id, "err", err)
			return writeq.Refuse(err)
		}
		return err
	}
	h.SessionStarted = func(ctx context.Context, id int64, at time.Time) error {
		if node.FencedOff(id) && !roomOpen(id) { // the start of a room fenced off before it was stored
			return writeq.Refuse(fmt.Errorf("app: interview %d: session start of a room fenced off meanwhile: %w", id, store.ErrLeaseLost))
		}
		if err := node.StartSession(ctx, id); errors.Is(err, store.ErrLeaseHeld) {
			log.Error("interview live on this node is leased by another: not marked live", "interview", id, "err", err)
			return writeq.Refuse(err)
		} else if err != nil {
			return err
		}
		if err := started(ctx, id, at); err != nil {
			return err
		}
		held.add(id, 1)
		return nil
	}
	s.SessionEnded = func(ctx context.Context, r *analysis.Result) error {
		id := r.InterviewID
		err := under(ctx, "session end", id, func(ctx context.Context) error { return ended(ctx, r) })
		if err != nil && !errors.Is(err, writeq.ErrRefused) {
			return err // retried
		}
		held.add(id, -1)
		if roomOpen(id) {
			return err
		}
		node.EndSession(id)
		if err != nil {
			return err
		}
		return node.Release(ctx, id)
	}
	if result != nil {
		s.ChallengeResult = func(ctx context.Context, id int64, r challenge.Result, jpeg []byte, jpegAt time.Time) error {
			return under(ctx, "challenge result", id, func(ctx context.Context) error { return result(ctx, id, r, jpeg, jpegAt) })
		}
	}
	h.HandedOver = func(ctx context.Context, id int64) error {
		if err := node.HandOver(ctx, id); err != nil {
			return err // retried
		}
		held.drop(id)
		return nil
	}
	if checkpoint != nil {
		s.Checkpoint = func(ctx context.Context, cp *analysis.Checkpoint) error {
			return under(ctx, "checkpoint", cp.InterviewID, func(ctx context.Context) error { return checkpoint(ctx, cp) })
		}
	}
	return h, s
}
