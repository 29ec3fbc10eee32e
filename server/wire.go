package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/httpapi"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/store"
)

// app is the wired server: database, HTTP layer and background services.
type app struct {
	pool *pgxpool.Pool
	http *httpapi.Server
	log  *slog.Logger
}

// newApp connects to the database, migrates it and builds every service by
// explicit constructor.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) (*app, error) {
	pool, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st := store.New(pool)
	secret, err := signingSecret(ctx, cfg, st)
	if err != nil {
		pool.Close()
		return nil, err
	}
	signer, err := auth.NewSigner(secret)
	if err != nil {
		pool.Close()
		return nil, err
	}
	mailer := &mail.Mailer{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
		Password: cfg.SMTPPassword, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS}
	h, err := httpapi.New(httpapi.Deps{Store: st, Config: cfg, Signer: signer, Mailer: mailer, Logger: log})
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := printSetupLink(ctx, cfg, st, stdout); err != nil {
		pool.Close()
		return nil, err
	}
	return &app{pool: pool, http: h, log: log}, nil
}

// printSetupLink prints a one-time link to create the first admin when there is no account.
func printSetupLink(ctx context.Context, cfg *config.Config, st *store.Store, stdout io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	tok, err := auth.RandomString(24)
	if err != nil {
		return err
	}
	if err := st.SetSetting(ctx, httpapi.SetupTokenKey, fmt.Sprintf("%x", auth.HashToken(tok))); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nNo accounts yet. Create the first administrator at:\n\n    %s/setup/%s\n\n"+
		"(or run: livecheck user add --role admin --email you@example.com)\n\n", cfg.BaseURL, tok)
	return nil
}

// Shutdown stops background work, letting live sessions finish their writes.
func (a *app) Shutdown(ctx context.Context) {}

// Close releases the database pool.
func (a *app) Close() { a.pool.Close() }

// readPassword reads a password line from stdin.
func readPassword(stdout io.Writer) (string, error) {
	fmt.Fprint(stdout, "Password (at least 10 characters): ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
