package store

import (
	"context"
	"fmt"
)

// Setting returns the value stored under key, or models.ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("store: unable to read setting %q: %w", key, interpretError(err))
	}
	return v, nil
}

// SetSetting stores value under key, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, key, value)
	if err != nil {
		return fmt.Errorf("store: unable to write setting %q: %w", key, err)
	}
	return nil
}

// SettingOrInit returns the value under key; when there is none it stores
// init() and returns it. Two concurrent callers get the same value.
func (s *Store) SettingOrInit(ctx context.Context, key string, init func() (string, error)) (string, error) {
	candidate, err := init()
	if err != nil {
		return "", err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, candidate); err != nil {
		return "", fmt.Errorf("store: unable to initialise setting %q: %w", key, err)
	}
	return s.Setting(ctx, key)
}

// DeleteSetting removes key.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM settings WHERE key = $1`, key); err != nil {
		return fmt.Errorf("store: unable to delete setting %q: %w", key, err)
	}
	return nil
}
