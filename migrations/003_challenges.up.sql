-- Liveness challenges and their evidence frames.

CREATE TABLE challenges (
    id               bigserial PRIMARY KEY,
    interview_id     bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    challenge_id     text NOT NULL UNIQUE,
    kind             text NOT NULL,
    params           jsonb NOT NULL,
    attempt          integer NOT NULL,
    replaces         text NOT NULL DEFAULT '',
    issued_at        timestamptz NOT NULL,
    shown_at         timestamptz,
    deadline         timestamptz NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('passed', 'failed', 'inconclusive')),
    reason           text NOT NULL DEFAULT '',
    onset_at         timestamptz,
    onset_latency_ms double precision,
    peak             double precision NOT NULL,
    unit             text NOT NULL,
    peak_at          timestamptz,
    metrics          jsonb NOT NULL DEFAULT '{}',
    drift            double precision NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX challenges_interview_idx ON challenges (interview_id, issued_at);

-- Evidence images (JPEG face crops) are biometric data: purged after the retention period.
CREATE TABLE evidence (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    challenge_id text,
    kind         text NOT NULL,
    at           timestamptz NOT NULL,
    reason       text NOT NULL DEFAULT '',
    jpeg         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_interview_idx ON evidence (interview_id, at);
CREATE INDEX evidence_created_idx ON evidence (created_at);
