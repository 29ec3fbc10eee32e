package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livecheck/livecheck/models"
)

// ErrLeaseHeld is returned by AcquireLease when another node holds an
// unexpired lease on the interview. It wraps models.ErrConflict.
var ErrLeaseHeld = fmt.Errorf("%w: interview leased by another node", models.ErrConflict)

// Node is one livecheck server sharing the database. Times come from the
// database clock.
type Node struct {
	ID           string
	PublicURL    string // where browsers reach this node directly
	MediaAddress string // public address(es) and UDP port range of its media
	Capacity     int    // most interviews it holds at once
	Live         int    // rooms open at its last heartbeat
	Leases       int    // unexpired interview leases it holds (filled by Nodes and PickNode)
	Draining     bool   // shutting down: takes no new interview
	StartedAt    time.Time
	HeartbeatAt  time.Time
}

// Lease says which node holds a live interview.
type Lease struct {
	InterviewID int64
	NodeID      string
	Epoch       int64 // incremented when another node takes the lease over
	AcquiredAt  time.Time
	ExpiresAt   time.Time
	Expired     bool // ExpiresAt has passed (database clock)
}

const nodeColumns = `n.id, n.public_url, n.media_address, n.capacity, n.live, n.draining, n.started_at, n.heartbeat_at`

func scanNode(row pgx.Row, extra ...any) (*Node, error) {
	var n Node
	dest := append([]any{&n.ID, &n.PublicURL, &n.MediaAddress, &n.Capacity, &n.Live, &n.Draining, &n.StartedAt, &n.HeartbeatAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &n, nil
}

// leaseCounts is the number of unexpired leases per node.
const leaseCounts = `(SELECT node_id, count(*)::int AS n FROM interview_leases WHERE expires_at > now() GROUP BY node_id)`

// millis turns a duration into the integer milliseconds the SQL below multiplies
// by interval '1 millisecond'.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// RegisterNode records n (a node starting, or restarting with the same id):
// its address, capacity, a fresh start time and heartbeat, not draining.
func (s *Store) RegisterNode(ctx context.Context, n Node) error {
	_, err := s.db.Exec(ctx, `INSERT INTO nodes (id, public_url, media_address, capacity, live, draining, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4, $5, false, now(), now())
		ON CONFLICT (id) DO UPDATE SET public_url = EXCLUDED.public_url, media_address = EXCLUDED.media_address,
			capacity = EXCLUDED.capacity, live = EXCLUDED.live, draining = false, started_at = now(), heartbeat_at = now()`,
		n.ID, n.PublicURL, n.MediaAddress, n.Capacity, n.Live)
	if err != nil {
		return fmt.Errorf("store: unable to register node: %w", interpretError(err))
	}
	return nil
}

// HeartbeatNode renews node id's heartbeat with its live room count and
// extends every lease it holds to now+ttl (one transaction). It returns how
// many leases were renewed, and models.ErrNotFound when the node is not
// registered (its row was removed: register again).
func (s *Store) HeartbeatNode(ctx context.Context, id string, live int, ttl time.Duration) (int64, error) {
	var renewed int64
	err := s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `UPDATE nodes SET heartbeat_at = now(), live = $2 WHERE id = $1`, id, live)
		if err != nil {
			return fmt.Errorf("store: unable to renew node heartbeat: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("store: unable to renew node heartbeat: %w", models.ErrNotFound)
		}
		tag, err = tx.db.Exec(ctx, `UPDATE interview_leases SET expires_at = now() + $2 * interval '1 millisecond'
			WHERE node_id = $1`, id, millis(ttl))
		if err != nil {
			return fmt.Errorf("store: unable to renew leases: %w", err)
		}
		renewed = tag.RowsAffected()
		return nil
	})
	return renewed, err
}

// OtherNodes counts the registered nodes other than id that are not
// draining: the nodes that could take an interview over from id. A node that
// stopped cleanly removed itself; one that died stays registered (it may come
// back), and so counts.
func (s *Store) OtherNodes(ctx context.Context, id string) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM nodes WHERE id <> $1 AND NOT draining`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unable to count nodes: %w", err)
	}
	return n, nil
}

// FreeSlots is the room for new interviews on the nodes other than id that
// PickNode may choose (heartbeat younger than alive, not draining): the sum
// of their capacities less their unexpired leases. A draining node hands
// over at most this many of its live interviews (cluster.Node.Drain).
func (s *Store) FreeSlots(ctx context.Context, id string, alive time.Duration) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(greatest(n.capacity - coalesce(l.n, 0), 0)), 0)::int
		FROM nodes n LEFT JOIN `+leaseCounts+` l ON l.node_id = n.id
		WHERE n.id <> $1 AND n.heartbeat_at > now() - $2 * interval '1 millisecond' AND NOT n.draining`, id, millis(alive)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: unable to count free slots: %w", err)
	}
	return n, nil
}

// SetNodeDraining marks a node as shutting down: PickNode skips it.
func (s *Store) SetNodeDraining(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, `UPDATE nodes SET draining = true WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: unable to mark node draining: %w", err)
	}
	return nil
}

// DeregisterNode removes a node that stopped cleanly, with its leases.
func (s *Store) DeregisterNode(ctx context.Context, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM interview_leases WHERE node_id = $1`, id); err != nil {
			return fmt.Errorf("store: unable to drop node leases: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, id); err != nil {
			return fmt.Errorf("store: unable to deregister node: %w", err)
		}
		return nil
	})
}

// Nodes lists the registered nodes with their lease counts, by id.
func (s *Store) Nodes(ctx context.Context) ([]*Node, error) {
	rows, err := s.db.Query(ctx, `SELECT `+nodeColumns+`, COALESCE(l.n, 0) FROM nodes n LEFT JOIN `+leaseCounts+` l ON l.node_id = n.id
		ORDER BY n.id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list nodes: %w", err)
	}
	defer rows.Close()
	var out []*Node
	for rows.Next() {
		var leases int
		n, err := scanNode(rows, &leases)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan node: %w", err)
		}
		n.Leases = leases
		out = append(out, n)
	}
	return out, rows.Err()
}

// PickNode returns the node a new interview should go to: among nodes whose
// heartbeat is younger than alive and that are not draining, the one with
// the smallest share of its capacity leased and still room for one more
// (ties: by id). models.ErrNotFound when every node is full or gone.
func (s *Store) PickNode(ctx context.Context, alive time.Duration) (*Node, error) {
	var leases int
	n, err := scanNode(s.db.QueryRow(ctx, `SELECT `+nodeColumns+`, COALESCE(l.n, 0) FROM nodes n LEFT JOIN `+leaseCounts+` l ON l.node_id = n.id
		WHERE n.heartbeat_at > now() - $1 * interval '1 millisecond' AND NOT n.draining AND COALESCE(l.n, 0) < n.capacity
		ORDER BY COALESCE(l.n, 0)::float8 / n.capacity, n.id LIMIT 1`, millis(alive)), &leases)
	if err != nil {
		return nil, fmt.Errorf("store: unable to pick a node: %w", interpretError(err))
	}
	n.Leases = leases
	return n, nil
}

const leaseColumns = `interview_id, node_id, epoch, acquired_at, expires_at, expires_at <= now()`

func scanLease(row pgx.Row) (*Lease, error) {
	var l Lease
	if err := row.Scan(&l.InterviewID, &l.NodeID, &l.Epoch, &l.AcquiredAt, &l.ExpiresAt, &l.Expired); err != nil {
		return nil, err
	}
	return &l, nil
}

// AcquireLease gives interview interviewID to node until now+ttl: a new
// lease, a renewal of node's own, or the takeover of another node's expired
// lease (epoch + 1). When another node holds an unexpired lease it returns
// that lease with ErrLeaseHeld. Concurrent calls for one interview have
// exactly one winner: the insert conflicts on the primary key and the
// takeover condition is re-checked on the row the winner committed.
func (s *Store) AcquireLease(ctx context.Context, interviewID int64, node string, ttl time.Duration) (*Lease, error) {
	l, err := scanLease(s.db.QueryRow(ctx, `INSERT INTO interview_leases AS l (interview_id, node_id, epoch, acquired_at, expires_at)
		VALUES ($1, $2, 1, now(), now() + $3 * interval '1 millisecond')
		ON CONFLICT (interview_id) DO UPDATE SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at,
			epoch = l.epoch + CASE WHEN l.node_id = EXCLUDED.node_id THEN 0 ELSE 1 END,
			acquired_at = CASE WHEN l.node_id = EXCLUDED.node_id THEN l.acquired_at ELSE now() END
		WHERE l.node_id = EXCLUDED.node_id OR l.expires_at <= now()
		RETURNING `+leaseColumns, interviewID, node, millis(ttl)))
	if errors.Is(err, pgx.ErrNoRows) {
		held, herr := s.InterviewLease(ctx, interviewID)
		if herr != nil {
			return nil, herr
		}
		return held, ErrLeaseHeld
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to acquire lease: %w", interpretError(err))
	}
	return l, nil
}

// ReleaseLease ends node's lease on an interview (the session ended there).
// Releasing a lease node no longer holds does nothing.
func (s *Store) ReleaseLease(ctx context.Context, interviewID int64, node string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM interview_leases WHERE interview_id = $1 AND node_id = $2`, interviewID, node); err != nil {
		return fmt.Errorf("store: unable to release lease: %w", err)
	}
	return nil
}

// InterviewLease returns the lease on an interview, expired or not;
// models.ErrNotFound when no node holds it.
func (s *Store) InterviewLease(ctx context.Context, interviewID int64) (*Lease, error) {
	l, err := scanLease(s.db.QueryRow(ctx, `SELECT `+leaseColumns+` FROM interview_leases WHERE interview_id = $1`, interviewID))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch lease: %w", interpretError(err))
	}
	return l, nil
}

// Node returns one registered node.
func (s *Store) Node(ctx context.Context, id string) (*Node, error) {
	n, err := scanNode(s.db.QueryRow(ctx, `SELECT `+nodeColumns+` FROM nodes n WHERE n.id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch node: %w", interpretError(err))
	}
	return n, nil
}

// InterruptExpiredLeases handles the interviews of nodes that died: every
// interview still live whose lease expired is marked interrupted (its open
// attempts closed), and expired leases are deleted, in one transaction. It
// returns the interrupted interview ids. Whatever the dead node had stored
// stays; the candidate may rejoin on another node.
func (s *Store) InterruptExpiredLeases(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	err := s.InTx(ctx, func(tx *Store) error {
		rows, err := tx.db.Query(ctx, `WITH gone AS (DELETE FROM interview_leases WHERE expires_at <= now() RETURNING interview_id)
			UPDATE interviews i SET status = 'interrupted', ended_at = $1 FROM gone
			WHERE i.id = gone.interview_id AND i.status = 'live' RETURNING i.id`, now)
		if err != nil {
			return fmt.Errorf("store: unable to interrupt orphaned interviews: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("store: unable to interrupt orphaned interviews: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `UPDATE attempts SET ended_at = $1, end_reason = 'node lost'
			WHERE ended_at IS NULL AND interview_id = ANY ($2)`, now, ids); err != nil {
			return fmt.Errorf("store: unable to close attempts: %w", err)
		}
		return nil
	})
	return ids, err
}

// ReleaseIdleLeases drops node's leases on interviews it does not hold any
// more (keep: the interviews with a room open or a session still being
// stored on the node) that were acquired longer ago than grace: a join routed
// to the node reserves the lease, and a reservation nobody used is given up.
// It returns how many leases were dropped.
func (s *Store) ReleaseIdleLeases(ctx context.Context, node string, keep []int64, grace time.Duration) (int64, error) {
	if keep == nil {
		keep = []int64{}
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM interview_leases WHERE node_id = $1 AND NOT (interview_id = ANY ($2))
		AND acquired_at <= now() - $3 * interval '1 millisecond'`, node, keep, millis(grace))
	if err != nil {
		return 0, fmt.Errorf("store: unable to release idle leases: %w", err)
	}
	return tag.RowsAffected(), nil
}

// placeLock is the advisory lock that serialises placements across nodes.
const placeLock = 0x6c6976656e6f6465 // "livenode"

// PlaceInterview gives an interview no node holds to the node PickNode
// chooses, in one transaction under a cluster-wide advisory lock: placements
// made at the same moment see each other's leases, so a burst of joins is
// spread over the nodes instead of all landing on the one that was least
// loaded before it, and no node is given more than its capacity. When another
// node took the interview meanwhile it returns that lease's ErrLeaseHeld;
// models.ErrNotFound when every node is full or gone.
func (s *Store) PlaceInterview(ctx context.Context, interviewID int64, alive, ttl time.Duration) (*Node, error) {
	var out *Node
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(placeLock)); err != nil {
			return fmt.Errorf("store: unable to place interview: %w", err)
		}
		n, err := tx.PickNode(ctx, alive)
		if err != nil {
			return err
		}
		if _, err := tx.AcquireLease(ctx, interviewID, n.ID, ttl); err != nil {
			return err
		}
		out = n
		return nil
	})
	return out, err
}
