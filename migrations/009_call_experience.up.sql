-- Call and review experience (issue 14).

-- A candidate who declines the analysis declines the interview: the status
-- says so everywhere. Consenting later (the link still works) reopens it.
ALTER TABLE interviews DROP CONSTRAINT interviews_status_check;
ALTER TABLE interviews ADD CONSTRAINT interviews_status_check
    CHECK (status IN ('scheduled', 'live', 'completed', 'flagged', 'interrupted', 'revoked', 'declined'));
ALTER TABLE interviews ADD COLUMN declined_at timestamptz;

-- The candidate's choice about screen flashes, made with their consent before
-- joining: 'flash' (colour flashes, at most 3 changes a second) or 'fade' (no
-- flashing: slow colour fades). An accommodation, shown to reviewers, never scored.
ALTER TABLE consents ADD COLUMN flash text NOT NULL DEFAULT 'flash' CHECK (flash IN ('flash', 'fade'));
