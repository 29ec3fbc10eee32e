// Package app wires livecheck's services together by explicit constructors. The
// server binary and the end-to-end tests build the same App.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/cluster"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/httpapi"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/netguard"
	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/rtc"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// Options are the inputs of New.
type Options struct {
	Config *config.Config
	DB     store.DBTX // a migrated database
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Stdout receives the one-time setup link when there is no account.
	Stdout io.Writer
	// Mailer overrides the SMTP settings of Config (tests).
	Mailer *mail.Mailer
	// NoVideoAnalysis skips loading the vision models (pages-only tests).
	NoVideoAnalysis bool
	// KeepLive skips marking interviews left live by an earlier run as
	// interrupted (for a second app on the same database, in tests).
	KeepLive bool
}

// App is the wired server.
type App struct {
	Store    *store.Store
	Signer   *auth.Signer
	HTTP     *httpapi.Server
	Config   *config.Config
	Logger   *slog.Logger
	Rooms    *room.Manager
	Analysis *analysis.Engine
	Writes   *writeq.Queue // what live rooms and their analyses store, in order
	Jobs     *jobs.Queue   // River: webhook deliveries, purge, reaper
	Node     *cluster.Node // this node's registration and leases
	// Face is the face recogniser (internal/faceid), loaded once at start;
	// nil without video analysis. Reference photos are described with it.
	Face *faceid.Model

	bgw    *background
	geo    *netsig.GeoIP
	cancel context.CancelFunc
	bg     sync.WaitGroup
}

// New builds every service.
func New(ctx context.Context, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg := o.Config
	if p, ok := o.DB.(*pgxpool.Pool); ok {
		metrics.SetPool(p) // pool statistics and a ping on every scrape of /metrics
	}
	st := store.New(o.DB)
	secret, err := signingSecret(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewSigner(secret)
	if err != nil {
		return nil, err
	}
	mailer := o.Mailer
	if mailer == nil {
		mailer = &mail.Mailer{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS}
	}
	a := &App{Store: st, Signer: signer, Config: cfg, Logger: o.Logger}
	pool, _ := o.DB.(*pgxpool.Pool)
	held := &holding{ids: map[int64]int{}}
	if a.bgw, err = newBackground(pool, st, cfg, o.Now, o.Logger, nodeHooks{
		live:    func() int { return a.Rooms.Live() },
		holding: func() []int64 { return held.list(a.Rooms.IDs()) },
		open:    func() []int64 { return a.Rooms.IDs() },
		lost: func(id int64) {
			if r, ok := a.Rooms.Get(id); ok {
				r.EndMoved("taken over")
			}
		},
		fence: func(ids []int64) {
			for _, id := range ids {
				if r, ok := a.Rooms.Get(id); ok {
					r.EndMoved("node fenced")
				}
			}
		},
	}); err != nil {
		return nil, err
	}
	a.Jobs, a.Node = a.bgw.queue, a.bgw.node
	st = st.WithJobs(a.Jobs) // webhook.Publish inserts its delivery jobs in the caller's transaction
	a.Store = st
	iceServers := rtc.ICEServers(cfg.ICEServers, cfg.TURNUsername, cfg.TURNPassword)
	api, err := rtc.NewAPI(rtc.Config{ICEServers: iceServers, NAT1To1IPs: cfg.NAT1To1IPs,
		UDPPortMin: cfg.UDPPortMin, UDPPortMax: cfg.UDPPortMax, IncludeLoopback: cfg.IncludeLoopback})
	if err != nil {
		return nil, err
	}
	plan := challenge.PlanConfig{Count: cfg.Challenges, Duration: cfg.InterviewLength, WarmUp: cfg.ChallengeWarmUp}
	for _, g := range cfg.ChallengeMix {
		group, err := challenge.ParseKinds(g)
		if err != nil {
			return nil, fmt.Errorf("app: LIVECHECK_CHALLENGE_MIX: %w", err)
		}
		plan.Mix = append(plan.Mix, group)
	}
	if plan.Kinds, err = challenge.ParseKinds(cfg.ChallengeKinds); err != nil {
		return nil, fmt.Errorf("app: LIVECHECK_CHALLENGE_KINDS: %w", err)
	}
	if cfg.Challenges > 0 {
		if err := plan.Validate(); err != nil {
			return nil, fmt.Errorf("app: challenge settings: %w", err)
		}
	}
	var newAnalyzer func() (analysis.FrameAnalyzer, error)
	var identity analysis.IdentityConfig
	if !o.NoVideoAnalysis && cfg.Analysis != "decode" { // decode: the benchmark floor, frames decoded but not analysed
		if newAnalyzer, err = analyzerFactory(cfg); err != nil {
			return nil, err
		}
		if a.Face, err = loadFaceModel(cfg); err != nil {
			return nil, err
		}
		identity.Model = a.Face
		identity.Session.Every = cfg.IdentityEvery
	}
	checker, geo, err := netChecker(cfg)
	if err != nil {
		return nil, err
	}
	a.geo = geo
	judge := verdict.NewJudge(verdict.Config{Store: st, Checker: checker, ReuseDays: cfg.ReuseDays, Risk: riskSettings(cfg),
		BaseURL: cfg.BaseURL, Now: o.Now})
	hooks, stored := leased(roomHooks(st), analysisStore(st, judge, cfg.NodeID), a.Node, held, func(id int64) bool {
		_, open := a.Rooms.Get(id)
		return open
	}, o.Logger)
	a.Writes = writeq.New(o.Logger, 30*time.Minute)
	a.Analysis = analysis.New(analysis.Config{AnalysisFPS: cfg.AnalysisFPS, Logger: o.Logger, Now: o.Now,
		NewAnalyzer: newAnalyzer, Detectors: newAnalyzer != nil, Detect: detect.Config{LiveCapture: true},
		EncodeEvidence: func(f *models.Frame, r models.Rect) ([]byte, error) { return vision.EncodeFaceJPEG(f, r, 85) },
		Challenges:     analysis.ChallengeConfig{Enabled: cfg.Challenges > 0, Plan: plan, LockAfter: cfg.ChallengeLockAfter},
		Gate:           analysis.NewGate(runtime.NumCPU()), DecodeNice: cfg.DecodeNice, DecodeAll: cfg.DecodeAll, Writes: a.Writes, Store: stored, Identity: identity})
	a.Rooms = room.NewManager(room.Config{API: api, ICEServers: iceServers, Grace: cfg.RejoinGrace, Logger: o.Logger, Now: o.Now,
		NewAnalysis: func(id int64, out room.Outlet) room.Analysis { return a.Analysis.Open(id, out) },
		Challenges:  a.Analysis.ChallengeState(),
		Writes:      a.Writes, Hooks: hooks,
		RemoteCandidates: netguard.CandidatePolicy{AllowPrivate: cfg.ICEAllowPrivate}})
	metrics.SetLiveInterviews(a.Rooms.Live)
	a.HTTP, err = httpapi.New(httpapi.Deps{Store: st, Config: cfg, Signer: signer, Mailer: mailer, Logger: o.Logger, Now: o.Now,
		Rooms: a.Rooms, ICEServers: iceServers, Photos: newReferenceReader(cfg, o.Logger, a.Face),
		FaceIdentity: a.Face != nil, Cluster: a.Node})
	if err != nil {
		return nil, err
	}
	if !o.KeepLive {
		if n, err := st.InterruptLiveInterviews(ctx, o.Now(), cfg.NodeID); err != nil {
			return nil, err
		} else if n > 0 {
			o.Logger.Warn("interviews left live by a previous run were marked interrupted", "count", n)
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if err := a.bgw.start(bg); err != nil {
		cancel()
		return nil, err
	}
	a.bg.Add(1)
	go func() { defer a.bg.Done(); a.Node.Run(bg) }()
	if o.Stdout != nil {
		if err := PrintSetupLink(ctx, cfg, st, o.Stdout); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// drainAsk bounds the questions a stopping node asks the database before it
// decides whether to hand its interviews over (cluster.Node.Drain).
const drainAsk = 3 * time.Second

// Handler is the HTTP handler of the whole application.
func (a *App) Handler() http.Handler { return a.HTTP.Handler() }

// Shutdown stops the node. It first drains it (cluster.Node.Drain: marked
// draining, placement skips it); when other live nodes have room, its live
// interviews are handed over to them (room.Manager.Drain: each session's
// final checkpoint written, its lease given up at once, its participants told
// "moved", so that they reconnect through the route and the same session
// goes on elsewhere), as many as the others have room for. The others — all
// of them on a node alone, or when the database cannot be reached — end as
// interrupted, storing what they measured.
func (a *App) Shutdown(ctx context.Context) {
	free := 0
	if a.Node != nil {
		// Bounded: with the database out of reach the rooms end here, and
		// their writes keep the rest of the shutdown's time.
		dctx, cancel := context.WithTimeout(ctx, drainAsk)
		var err error
		free, err = a.Node.Drain(dctx)
		cancel()
		if err != nil {
			a.Logger.Error("drain: the other nodes are unknown; live interviews end here", "err", err)
			free = 0
		}
	}
	if live := a.Rooms.Live(); free > 0 && live > 0 {
		a.Logger.Info("draining: live interviews are handed over to the other nodes", "node", a.Node.ID(), "rooms", live, "room_elsewhere", free)
		n := a.Rooms.Drain(ctx, free)
		a.Logger.Info("drained: interviews handed over", "node", a.Node.ID(), "handed_over", n)
	} else {
		a.Rooms.Shutdown(ctx)
	}
	a.Writes.Close(ctx)
	if a.cancel != nil {
		a.cancel()
	}
	a.bg.Wait()
	if a.bgw != nil {
		a.bgw.stop(ctx, a.Logger)
	}
	if a.geo != nil {
		a.geo.Close()
	}
	if a.Face != nil {
		a.Face.Close() // after the rooms and their analyses stopped
	}
}

// signingSecret returns the configured secret, or the one generated on first
// start and kept in the database, so links survive restarts.
func signingSecret(ctx context.Context, cfg *config.Config, st *store.Store) ([]byte, error) {
	if cfg.SigningSecret != "" {
		return []byte(cfg.SigningSecret), nil
	}
	v, err := st.SettingOrInit(ctx, "signing_secret", func() (string, error) { return auth.RandomString(48) })
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// PrintSetupLink prints a one-time link to create the first admin when there is no account.
func PrintSetupLink(ctx context.Context, cfg *config.Config, st *store.Store, stdout io.Writer) error {
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

// riskSettings are the risk engine's thresholds from the configuration.
func riskSettings(cfg *config.Config) risk.Settings {
	st := risk.DefaultSettings()
	st.ReviewAt, st.FailAt = cfg.RiskReviewAt, cfg.RiskFailAt
	return st
}

// netChecker builds the network/device checker from the settings.
func netChecker(cfg *config.Config) (*netsig.Checker, *netsig.GeoIP, error) {
	var server *netsig.Coord
	if loc := strings.TrimSpace(cfg.ServerLocation); loc != "" {
		if c, err := netsig.ParseCoord(loc); err == nil {
			server = &c
		} else if city, ok := netsig.LookupCity(loc, ""); ok {
			c := city.Coord
			server = &c
		} else {
			return nil, nil, fmt.Errorf("app: LIVECHECK_SERVER_LOCATION %q is neither \"lat,lon\" nor a known city", loc)
		}
	}
	geo, err := netsig.OpenGeoIP(netsig.GeoIPPaths{City: cfg.GeoIPCity, ASN: cfg.GeoIPASN, Anonymous: cfg.GeoIPAnonymous})
	if err != nil {
		return nil, nil, fmt.Errorf("app: GeoIP databases: %w", err)
	}
	return netsig.NewChecker(netsig.Config{Server: server, GeoIP: geo}), geo, nil
}
