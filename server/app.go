package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/app"
	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/migrations"
	"github.com/livecheck/livecheck/models"
)

const usage = `livecheck — liveness and identity checks for remote interviews

Usage:
  livecheck serve                 run the web server (settings from the environment; --help lists them)
  livecheck migrate               apply database migrations and exit
  livecheck user add --email E --role admin|recruiter|reviewer [--name N]
                                  create a staff account (password read from stdin or LIVECHECK_NEW_PASSWORD)
  livecheck analyze --video FILE [--audio FILE.wav] [--json]
                                  run the detectors and the risk engine on a recording (docs/ANALYZE.md)
  livecheck eval MANIFEST.tsv [--json] [--workers N] [--roc out.svg]
                                  ISO/IEC 30107-3 metrics of the detectors on a labelled set (docs/EVAL.md)
  livecheck rescore (--all | INTERVIEW_ID...) [--dry-run]
                                  recompute verdicts from the stored signals with the current scoring rules
  livecheck loadgen --server URL --interviews N --duration D [--video F.ivf] [--audio F.wav] [--viewers K]
                                  simulated candidates over real WebRTC against a server (docs/BENCH.md)
  livecheck redteam --server URL --scenarios all --runs K [--json FILE]
                                  simulated honest candidates and attackers that respond to the challenges (docs/REDTEAM.md)
`

// run is the whole program; main only passes the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(args[1:], stdout, getenv)
	case "user":
		err = cmdUser(args[1:], stdout, getenv)
	case "analyze":
		err = cmdAnalyze(args[1:], stdout, stderr)
	case "eval":
		err = cmdEval(args[1:], stdout, stderr)
	case "rescore":
		err = cmdRescore(args[1:], stdout, stderr, getenv)
	case "loadgen":
		err = cmdLoadgen(args[1:], stdout, stderr, getenv)
	case "redteam":
		err = cmdRedteam(args[1:], stdout, stderr, getenv)
	default:
		fmt.Fprintf(stderr, "livecheck: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "livecheck: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB connects and applies the migrations.
func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := store.Open(ctx, cfg.DatabaseURL, metrics.TraceQueries) // every statement timed in livecheck_db_query_seconds
	if err != nil {
		return nil, err
	}
	applied, river, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if (len(applied) > 0 || len(river) > 0) && log != nil {
		log.Info("database migrated", "applied", applied, "river", river)
	}
	return pool, nil
}

// migrate applies livecheck's migrations, then River's (its job tables).
func migrate(ctx context.Context, pool *pgxpool.Pool) (ours, river []int, err error) {
	if ours, err = store.New(pool).Migrate(ctx, migrations.FS); err != nil {
		return nil, nil, err
	}
	if river, err = jobs.Migrate(ctx, pool); err != nil {
		return nil, nil, err
	}
	return ours, river, nil
}

func cmdMigrate(args []string, stdout io.Writer, getenv func(string) string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, river, err := migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 && len(river) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	} else {
		fmt.Fprintf(stdout, "applied migrations %v, River migrations %v\n", applied, river)
	}
	return nil
}

func cmdUser(args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: livecheck user add --email E --role admin|recruiter|reviewer [--name N]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "e-mail (login name)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "recruiter", "admin, recruiter or reviewer")
	fs.SetOutput(stdout)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || !strings.Contains(*email, "@") {
		return errors.New("user add: --email is required")
	}
	if !models.Role(*role).Valid() {
		return fmt.Errorf("user add: unknown role %q", *role)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	pw := getenv("LIVECHECK_NEW_PASSWORD")
	if pw == "" {
		pw, err = readPassword(stdout)
		if err != nil {
			return err
		}
	}
	hash, err := auth.HashPassword(pw, cfg.PasswordCost)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.Split(*email, "@")[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := openDB(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	u := &models.User{Email: *email, Name: *name, Role: models.Role(*role), PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("user add: an account with e-mail %s already exists", *email)
		}
		return err
	}
	_ = st.Audit(ctx, store.AuditEntry{Actor: "cli", Action: "user.create", Target: fmt.Sprintf("user:%d", u.ID),
		Detail: map[string]any{"role": *role}})
	fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, u.Role)
	return nil
}

func cmdServe(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, "Usage: livecheck serve\n\nRuns the web server.\n\n"+config.Usage())
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pool, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := app.New(ctx, app.Options{Config: cfg, DB: pool, Logger: log, Stdout: stdout})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr: cfg.ListenAddr, Handler: a.Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	if cfg.MetricsListen != "" { // Prometheus /metrics and pprof on a private address
		ml, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		msrv := &http.Server{Handler: metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = msrv.Serve(ml) }()
		defer msrv.Close()
		log.Info("metrics listening", "addr", ml.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("livecheck listening", "addr", cfg.ListenAddr, "url", cfg.BaseURL)
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), config.ShutdownTimeout)
	defer cancel()
	a.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}
