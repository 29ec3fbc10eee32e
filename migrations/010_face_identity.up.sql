-- Face identity (internal/faceid): session templates, reference photos and
-- reviewers' "same person legitimately" marks. Templates and reference
-- photos are biometric: purged after the retention period, exported and
-- erased with the candidate's data.

-- face_descriptors (005) holds the session templates: one row per identity
-- seen in a session (the main one and any other face that stayed long
-- enough), from the model named in model. session_started names the session
-- (session_results.started_at) and ordinal the identity within it, so that
-- the room's retried writes store each template once.
ALTER TABLE face_descriptors ADD COLUMN session_started timestamptz;
ALTER TABLE face_descriptors ADD COLUMN ordinal integer NOT NULL DEFAULT 0;
ALTER TABLE face_descriptors ADD COLUMN samples integer NOT NULL DEFAULT 0;
ALTER TABLE face_descriptors ADD COLUMN main boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX face_descriptors_once_idx ON face_descriptors (interview_id, session_started, ordinal)
    WHERE session_started IS NOT NULL;

-- The candidate's reference photo (an ID document or profile photo), as
-- re-encoded by faceid.DecodePhoto (no EXIF), with the descriptor of its
-- face. One per interview; a new upload replaces it.
CREATE TABLE reference_photos (
    interview_id bigint PRIMARY KEY REFERENCES interviews (id) ON DELETE CASCADE,
    jpeg         bytea NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    model        text NOT NULL,
    descriptor   real[] NOT NULL,
    uploaded_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX reference_photos_created_idx ON reference_photos (created_at);

-- A reviewer's decision that two interviews legitimately show the same
-- person (a re-interview, a second application): the pair stops counting as
-- face reuse. Stored in both directions so that each interview's export and
-- erasure covers its own rows.
CREATE TABLE identity_marks (
    interview_id       bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    other_interview_id bigint NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    marked_by          bigint REFERENCES users (id) ON DELETE SET NULL,
    note               text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (interview_id, other_interview_id),
    CHECK (interview_id <> other_interview_id)
);
CREATE INDEX identity_marks_other_idx ON identity_marks (other_interview_id);
