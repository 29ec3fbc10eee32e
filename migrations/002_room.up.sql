-- Live room: consent, candidate connection attempts, session results.

CREATE TABLE consents (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    browser_id   text NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('given', 'declined')),
    at           timestamptz NOT NULL,
    ip           text NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    notice       text NOT NULL -- version of the notice the candidate saw
);
CREATE INDEX consents_interview_idx ON consents (interview_id, at DESC);

CREATE TABLE attempts (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    browser_id   text NOT NULL,
    ip           text NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    end_reason   text,
    environment  jsonb
);
CREATE INDEX attempts_interview_idx ON attempts (interview_id, started_at);

-- One row per finished session (an interview has at most one).
CREATE TABLE session_results (
    interview_id      bigint PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    reason            text NOT NULL,
    started_at        timestamptz NOT NULL,
    ended_at          timestamptz NOT NULL,
    frames_decoded    bigint NOT NULL,
    frames_analysed   bigint NOT NULL,
    frames_dropped    bigint NOT NULL,
    decode_errors     bigint NOT NULL,
    keyframe_requests bigint NOT NULL,
    audio_chunks      bigint NOT NULL,
    face_absent       jsonb NOT NULL,
    camera_off        jsonb NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now()
);

-- Time series measured during a session. face_presence and landmark-derived
-- series are biometric data and fall under the retention limit.
CREATE TABLE series (
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    biometric    boolean NOT NULL,
    points       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interview_id, kind)
);

CREATE TABLE signals (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    value        double precision NOT NULL,
    score        double precision NOT NULL,
    confidence   double precision NOT NULL,
    reason       text NOT NULL,
    at           timestamptz,
    detail       jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signals_interview_idx ON signals (interview_id);
