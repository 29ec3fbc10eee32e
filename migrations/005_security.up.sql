-- Security: signed webhooks and their delivery log, network facts per attempt
-- (cross-candidate reuse), face descriptors (biometric), and the record of
-- candidate data erasures.

-- Admin-configured receivers. The secret signs every delivery (HMAC-SHA256),
-- so it is stored as given; it is shown to the admin once, never logged.
CREATE TABLE webhooks (
    id          bigserial PRIMARY KEY,
    url         text NOT NULL,
    secret      text NOT NULL,
    events      text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (webhook, event): the durable outbox a worker drains. payload is
-- the exact JSON text signed and sent, identical on every retry.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        text NOT NULL,
    event           text NOT NULL,
    interview_id    bigint REFERENCES interviews (id) ON DELETE SET NULL,
    payload         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_interview_idx ON webhook_deliveries (interview_id);

-- The delivery log: every HTTP attempt with its outcome.
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer,
    error       text NOT NULL DEFAULT '',
    duration_ms integer NOT NULL,
    response    text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);

-- Network and device facts of one candidate connection: public page and media
-- addresses, the device fingerprint (internal/netsig), the ICE report for the
-- reviewer console. Indexed for "the same IP / fingerprint for another candidate".
CREATE TABLE attempt_network (
    attempt_id   bigint PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    ips          text[] NOT NULL DEFAULT '{}',
    fingerprint  text NOT NULL DEFAULT '',
    fp_strength  real NOT NULL DEFAULT 0,
    ice          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX attempt_network_ips_idx ON attempt_network USING gin (ips);
CREATE INDEX attempt_network_fp_idx ON attempt_network (fingerprint, at) WHERE fingerprint <> '';
CREATE INDEX attempt_network_interview_idx ON attempt_network (interview_id);
CREATE INDEX IF NOT EXISTS attempts_ip_idx ON attempts (ip, started_at);
CREATE INDEX IF NOT EXISTS attempts_browser_idx ON attempts (browser_id, started_at);

-- Face descriptors (embeddings) for cross-candidate face reuse. Biometric:
-- purged after the retention period like evidence images.
CREATE TABLE face_descriptors (
    id           bigserial PRIMARY KEY,
    interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    model        text NOT NULL,
    descriptor   real[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_descriptors_model_idx ON face_descriptors (model, created_at);
CREATE INDEX face_descriptors_interview_idx ON face_descriptors (interview_id);
CREATE INDEX IF NOT EXISTS series_biometric_created_idx ON series (created_at) WHERE biometric;

-- Candidate data erasures: the interview row stays (its consents hang on it),
-- scrubbed of the candidate's identity; this row says when and by whom.
CREATE TABLE data_erasures (
    interview_id bigint PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    erased_at    timestamptz NOT NULL,
    erased_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    deleted      jsonb NOT NULL DEFAULT '{}'
);
