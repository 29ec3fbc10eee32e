-- Several livecheck nodes on one database: each node registers itself and
-- renews a heartbeat; each live interview is leased by exactly one node (its
-- rooms and media live in that node's memory). Lease times use the database
-- clock (now()), the one clock every node shares.

CREATE TABLE nodes (
    id            text PRIMARY KEY CHECK (id <> '' AND length(id) <= 200),  -- LIVECHECK_NODE_ID (host name by default)
    public_url    text NOT NULL,              -- where browsers reach this node's pages, signaling and API
    media_address text NOT NULL DEFAULT '',   -- public address(es) and UDP range of its WebRTC media
    capacity      integer NOT NULL CHECK (capacity > 0),  -- LIVECHECK_MAX_LIVE
    live          integer NOT NULL DEFAULT 0, -- rooms open on the node at its last heartbeat
    draining      boolean NOT NULL DEFAULT false,  -- shutting down: takes no new interview
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per interview held by a node. A lease is renewed by its node's
-- heartbeat; once expires_at has passed any node may take it over (epoch + 1,
-- a fencing token: writes of the old holder can be told apart).
CREATE TABLE interview_leases (
    interview_id bigint PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    node_id      text NOT NULL,
    epoch        bigint NOT NULL DEFAULT 1,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX interview_leases_node_idx ON interview_leases (node_id);
CREATE INDEX interview_leases_expiry_idx ON interview_leases (expires_at);

-- Webhook deliveries are now sent by River jobs (internal/jobs), which lock,
-- schedule and retry them: webhook_deliveries.locked_until is no longer used.
