-- Security reviewers' decisions on sessions.
CREATE TABLE reviews (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    reviewer_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    reviewer     text NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('approve', 'reject', 'escalate')),
    notes        text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_interview_idx ON reviews (interview_id, at DESC);
