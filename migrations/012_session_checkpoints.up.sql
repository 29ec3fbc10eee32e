-- A live session's checkpoint (internal/analysis/resume.go): what the node
-- running it has done so far, written as it happens through the ordered
-- writer, so that the same session goes on when its node dies and the
-- candidate rejoins elsewhere. One row per interview: the session it
-- belongs to (session_results.started_at once stored), the challenge plan
-- and its progress (the secret plan: never sent to a browser) and the
-- identities seen (face templates: biometric, purged after the retention
-- period, exported and erased with the interview's other rows). The row is
-- deleted in the transaction that stores the session's results.
CREATE TABLE session_checkpoints (
    interview_id    bigint PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    session_started timestamptz NOT NULL,
    node_id         text NOT NULL DEFAULT '',
    challenges      jsonb,
    identity        jsonb,
    at              timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_checkpoints_at_idx ON session_checkpoints (at);
