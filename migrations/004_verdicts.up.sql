-- Risk verdicts (internal/risk) and the passive detectors' window scores
-- (internal/detect). Verdicts are append-only: the session's end and every
-- `livecheck rescore` add a row; the newest row is the current verdict, and
-- the older ones show how the decision changed with the scoring version.

CREATE TABLE verdicts (
    id              bigserial PRIMARY KEY,
    interview_id    bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    score           double precision NOT NULL CHECK (score >= 0 AND score <= 100),
    decision        text NOT NULL CHECK (decision IN ('verified', 'review', 'failed')),
    reasons         jsonb NOT NULL,          -- [{kind, text, points, weight, evidence, at}], most points first
    scoring_version text NOT NULL,           -- risk.ScoringVersion (+ weight-override digest)
    review_at       double precision NOT NULL,
    fail_at         double precision NOT NULL,
    coverage        double precision NOT NULL,
    signal_count    integer NOT NULL,        -- signals the verdict was computed from
    trigger         text NOT NULL CHECK (trigger IN ('session_end', 'rescore')),
    computed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verdicts_interview_idx ON verdicts (interview_id, computed_at DESC, id DESC);

-- Window scores of the passive detectors over a session (timeline for
-- reviewers; aggregates only, nothing biometric).
CREATE TABLE detector_windows (
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    from_at      timestamptz NOT NULL,
    to_at        timestamptz NOT NULL,
    score        double precision NOT NULL,
    confidence   double precision NOT NULL,
    value        double precision NOT NULL,
    PRIMARY KEY (interview_id, kind, from_at)
);
