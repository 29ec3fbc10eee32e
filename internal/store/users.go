package store

import (
	"context"
	"fmt"

	"github.com/livecheck/livecheck/models"
)

const userColumns = `id, email, name, role, password_hash, disabled, created_at, team`

func scanUser(row interface{ Scan(...any) error }) (*models.User, error) {
	var u models.User
	var role string
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.Team); err != nil {
		return nil, err
	}
	u.Role = models.Role(role)
	return &u, nil
}

// CreateUser inserts u and sets its ID and CreatedAt. A duplicate e-mail is models.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	err := s.db.QueryRow(ctx, `INSERT INTO users (email, name, role, password_hash, disabled, team)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled, u.Team).Scan(&u.ID, &u.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: unable to create user: %w", interpretError(err))
	}
	return nil
}

// UserByID returns one user.
func (s *Store) UserByID(ctx context.Context, id int64) (*models.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch user: %w", interpretError(err))
	}
	return u, nil
}

// UserByEmail returns the user with this e-mail, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch user: %w", interpretError(err))
	}
	return u, nil
}

// Users lists every account, oldest first.
func (s *Store) Users(ctx context.Context) ([]*models.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list users: %w", err)
	}
	defer rows.Close()
	var out []*models.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns the number of accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unable to count users: %w", err)
	}
	return n, nil
}

// UpdateUserAccess changes a user's role and disabled flag.
func (s *Store) UpdateUserAccess(ctx context.Context, id int64, role models.Role, disabled bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET role = $2, disabled = $3 WHERE id = $1`, id, string(role), disabled)
	if err != nil {
		return fmt.Errorf("store: unable to update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: unable to update user: %w", models.ErrNotFound)
	}
	return nil
}

// SetPasswordHash replaces a user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("store: unable to set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: unable to set password: %w", models.ErrNotFound)
	}
	return nil
}

// SetUserTeam puts a user in a team ("" for none).
func (s *Store) SetUserTeam(ctx context.Context, id int64, team string) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET team = $2 WHERE id = $1`, id, team)
	if err != nil {
		return fmt.Errorf("store: unable to set team: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: unable to set team: %w", models.ErrNotFound)
	}
	return nil
}
