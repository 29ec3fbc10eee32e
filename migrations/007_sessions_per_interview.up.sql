-- An interview may have several sessions: one interrupted by a server restart
-- and the one the candidate rejoined afterwards.
ALTER TABLE session_results DROP CONSTRAINT session_results_pkey;
ALTER TABLE session_results ADD COLUMN id bigserial PRIMARY KEY;
ALTER TABLE session_results ADD CONSTRAINT session_results_once UNIQUE (interview_id, started_at);

-- Attempts are written asynchronously (retried while the database is away):
-- the room names each one with a random key.
ALTER TABLE attempts ADD COLUMN key text;
CREATE UNIQUE INDEX attempts_key_idx ON attempts (key);
