-- The measurements of a live session's checkpoint (internal/analysis/resume.go,
-- Measures): appended in parts as the session goes (about every 10 s, and at
-- a hand-over), so that a session that goes on at another node ends with a
-- result covering both parts: its time series, camera-off stretches,
-- counters and detector windows. A part holds what was measured since the
-- previous one (the counters as totals). Its series of face presence,
-- landmarks and audio levels are biometric: the parts go with their
-- checkpoint row (deleted in the transaction that stores the session's
-- results, purged after the retention period) and are exported and erased
-- with the interview's other rows.
CREATE TABLE session_checkpoint_parts (
    interview_id    bigint NOT NULL REFERENCES session_checkpoints (interview_id) ON DELETE CASCADE,
    session_started timestamptz NOT NULL,
    seq             integer NOT NULL,
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interview_id, session_started, seq)
);
