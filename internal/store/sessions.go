package store

import (
	"context"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/models"
)

// AuthSession is a staff login session; only the hash of its cookie token is stored.
type AuthSession struct {
	TokenHash []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// CreateAuthSession stores a new login session.
func (s *Store) CreateAuthSession(ctx context.Context, a *AuthSession) error {
	_, err := s.db.Exec(ctx, `INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.TokenHash, a.UserID, a.CreatedAt, a.ExpiresAt, a.IP, a.UserAgent)
	if err != nil {
		return fmt.Errorf("store: unable to create session: %w", interpretError(err))
	}
	return nil
}

// SessionUser returns the enabled user owning the session with this token hash,
// provided the session has not expired at now.
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (*models.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.team
		FROM auth_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, tokenHash, now))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch session: %w", interpretError(err))
	}
	return u, nil
}

// DeleteAuthSession ends one session (logout).
func (s *Store) DeleteAuthSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM auth_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("store: unable to delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (disabled account, role change).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM auth_sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("store: unable to delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired before now and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: unable to purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
