-- Security (issue 13): who sees which interviews. A recruiter sees the
-- interviews they created; with the admin setting interview_sharing = 'team'
-- (settings table) also those of their team, with 'organisation' all of them.
-- Admins and reviewers see every interview. Teams are a label an admin gives
-- accounts; '' is no team.
ALTER TABLE users ADD COLUMN team text NOT NULL DEFAULT '';
CREATE INDEX users_team_idx ON users (team) WHERE team <> '';
CREATE INDEX interviews_created_by_idx ON interviews (created_by, created_at DESC);
