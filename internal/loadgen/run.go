// Package loadgen simulates live interviews against a livecheck server over
// real WebRTC: for each interview it creates the interview through the admin
// API, then runs a pion client that behaves like the candidate's browser (join
// link, consent with a cookie jar, WebSocket signaling as the answerer, VP8 from
// a looped IVF file paced by the wall clock, with keyframes on request, Opus
// encoded from a WAV, answers to control-channel pings and "shown"
// acknowledgements of challenge prompts), optionally K recruiter viewers per
// interview, and reads the server's /metrics to report what the server did.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/wire"
)

// Config is one load-generator run.
type Config struct {
	Server string // base URL of the server (http://host:port)
	// Servers are several nodes' base URLs (a cluster on one database):
	// interviews are created on each in turn, each join is routed by the
	// server to the node holding the interview, and the interview's live
	// figures, challenges and end are asked of that node. Empty: Server.
	Servers    []string
	APIToken   string        // the server's LIVECHECK_API_TOKEN
	Interviews int           // simultaneous interviews
	Duration   time.Duration // measurement window, after every candidate connected and WarmUp
	WarmUp     time.Duration // after the last connection, before measuring (default 3 s)
	Media      *Media        // what candidates send (LoadMedia)
	Viewers    int           // receive-only staff peers per interview
	ViewerMode string        // observe (default) or host
	// ChallengeEvery issues a challenge in every interview through the API every
	// so often, the interviews' first ones spread evenly over one period from the
	// start of the window; 0 issues none (the server's own plan still runs).
	ChallengeEvery time.Duration
	MetricsURL     string    // the server's /metrics, for the server-side figures; empty: client figures only
	Progress       io.Writer // live progress line (nil: none)
	Label          string    // free text for the report (e.g. "full" or "decode")
	// KeepOpen leaves the interviews live at the end instead of ending them
	// through the API and waiting for their stored results.
	KeepOpen      bool
	ResultTimeout time.Duration // how long to wait for stored results (default 60 s)
}

// Interview is one simulated interview's outcome.
type Interview struct {
	ID          int64   `json:"id"`
	Node        string  `json:"node,omitempty"` // base URL of the node the call ran on
	Connected   bool    `json:"connected"`
	ConnectMs   float64 `json:"connect_ms"`
	Error       string  `json:"error,omitempty"`
	AnalysedFPS float64 `json:"analysed_fps"` // over the window, from the live figures
	DecodedFPS  float64 `json:"decoded_fps"`
	Status      string  `json:"status"`          // after the run
	Stored      bool    `json:"stored"`          // session results stored in the database
	Analysed    int64   `json:"frames_analysed"` // stored total
	Signals     int     `json:"signals"`
	Challenges  int     `json:"challenges"` // stored challenge results
	Issued      int     `json:"challenges_issued"`
}

// Server are the server's figures over the window, from /metrics.
type Server struct {
	CPUPercent     float64 `json:"cpu_percent"` // of one core
	RSSIdleMB      float64 `json:"rss_idle_mb"` // before the first candidate joined
	RSSPeakMB      float64 `json:"rss_peak_mb"`
	Goroutines     float64 `json:"goroutines"`
	ReceivedFPS    float64 `json:"received_fps"` // all interviews
	DecodedFPS     float64 `json:"decoded_fps"`
	AnalysedFPS    float64 `json:"analysed_fps"`
	DroppedMailbox float64 `json:"dropped_mailbox"` // frames replaced while the analyser was busy
	DroppedRate    float64 `json:"dropped_rate"`    // skipped above the passive rate, by design
	Refreshed      float64 `json:"refreshed"`       // analysed in place of an older due frame that waited (counted in dropped_rate too)
	DecodeErrors   float64 `json:"decode_errors"`
	DropPct        float64 `json:"drop_pct"`           // mailbox / (analysed + mailbox)
	ChalAnalysed   float64 `json:"challenge_analysed"` // frames analysed during challenges
	ChalDropped    float64 `json:"challenge_dropped"`  // mailbox drops during challenges
	ChalDropPct    float64 `json:"challenge_drop_pct"`
	P50Ms          float64 `json:"p50_ms"` // capture → observation
	P95Ms          float64 `json:"p95_ms"`
	ChalP95Ms      float64 `json:"challenge_p95_ms"`
	PassiveP95Ms   float64 `json:"passive_p95_ms"` // outside challenges
	// StagesP95Ms splits the passive frames' capture→observation time by
	// stage (livecheck_frame_wait_seconds: decoded, queued, slot,
	// measured), each stage's own p95.
	StagesP95Ms     map[string]float64 `json:"passive_stages_p95_ms,omitempty"`
	DecodeP50Ms     float64            `json:"decode_p50_ms"`
	AnalysisP50Ms   float64            `json:"analysis_p50_ms"`
	AnalysisP95Ms   float64            `json:"analysis_p95_ms"`
	DBP95Ms         float64            `json:"db_p95_ms"`
	VerifyP50S      float64            `json:"challenge_verification_p50_s"`
	ChallengesDone  float64            `json:"challenges_verified"`
	KeyframeReqs    float64            `json:"keyframe_requests"`
	PeersCandidates float64            `json:"peers_candidate"`
}

// Report is the outcome of a run.
type Report struct {
	Label       string      `json:"label"`
	Date        time.Time   `json:"date"`
	N           int         `json:"interviews"`
	Viewers     int         `json:"viewers"`
	WindowS     float64     `json:"window_s"`
	VideoFPS    float64     `json:"video_fps_in"`
	Resolution  string      `json:"resolution"`
	Connected   int         `json:"connected"`
	ConnectP50  float64     `json:"connect_p50_ms"`
	ConnectMax  float64     `json:"connect_max_ms"`
	AnalysedFPS float64     `json:"analysed_fps_mean"` // per interview
	AnalysedMin float64     `json:"analysed_fps_min"`
	Stored      int         `json:"stored"`
	Interviews  []Interview `json:"per_interview"`
	Server      *Server     `json:"server,omitempty"`
	// Client side.
	FramesSent    uint64   `json:"frames_sent"`
	AudioSent     uint64   `json:"audio_packets_sent"`
	KeyframeReqs  uint64   `json:"keyframe_requests_received"`
	KeyframesSent uint64   `json:"keyframe_restarts"`
	Pings         uint64   `json:"pings_answered"`
	Prompts       uint64   `json:"prompts_acknowledged"`
	ViewerPackets uint64   `json:"viewer_packets"`
	ChallengeBusy int      `json:"challenge_requests_refused"`
	LoadgenCPU    float64  `json:"loadgen_cpu_percent"`
	LoadAvgStart  string   `json:"loadavg_start"`
	LoadAvgEnd    string   `json:"loadavg_end"`
	Errors        []string `json:"errors,omitempty"`
}

// runState is what the goroutines of a run share.
type runState struct {
	mu             sync.Mutex
	rep            *Report
	challengeIssue []int
}

func (st *runState) addError(format string, args ...any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.rep.Errors) < 50 {
		st.rep.Errors = append(st.rep.Errors, fmt.Sprintf(format, args...))
	}
}

type sim struct {
	id      int64
	api     *apiClient // the node the interview runs on (after the candidate joined)
	joinURL string
	cand    *candidate
	viewers []*viewer
	base    wire.Interview
	err     error
}

// Run performs one load-generator run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Interviews < 1 {
		return nil, errors.New("loadgen: --interviews must be at least 1")
	}
	if cfg.Media == nil {
		return nil, errors.New("loadgen: no media")
	}
	if cfg.WarmUp <= 0 {
		cfg.WarmUp = 3 * time.Second
	}
	if cfg.ResultTimeout <= 0 {
		cfg.ResultTimeout = 60 * time.Second
	}
	if cfg.ViewerMode == "" {
		cfg.ViewerMode = "observe"
	}
	servers := cfg.Servers
	if len(servers) == 0 {
		servers = []string{cfg.Server}
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	var bases []*url.URL
	apis := map[string]*apiClient{}
	for _, srv := range servers {
		base, err := url.Parse(strings.TrimRight(srv, "/"))
		if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
			return nil, fmt.Errorf("loadgen: --server %q is not an http(s) URL", srv)
		}
		bases = append(bases, base)
		apis[base.String()] = &apiClient{base: base.String(), token: cfg.APIToken, http: hc}
	}
	apiFor := func(base string) *apiClient {
		if a, ok := apis[base]; ok {
			return a
		}
		a := &apiClient{base: base, token: cfg.APIToken, http: hc}
		apis[base] = a
		return a
	}
	api := apis[bases[0].String()]
	papi, err := newAPI()
	if err != nil {
		return nil, err
	}
	rep := &Report{Label: cfg.Label, Date: time.Now().UTC(), N: cfg.Interviews, Viewers: cfg.Viewers, VideoFPS: cfg.Media.FPS(),
		Resolution: fmt.Sprintf("%dx%d", cfg.Media.Width, cfg.Media.Height), LoadAvgStart: loadAvg()}
	st := &runState{rep: rep, challengeIssue: make([]int, cfg.Interviews)}
	var cnt counters
	prog := &progress{w: cfg.Progress, cfg: &cfg, c: &cnt, hc: hc, start: time.Now()}

	var idle metrics.Samples
	if cfg.MetricsURL != "" {
		if idle, err = metrics.Scrape(ctx, hc, cfg.MetricsURL); err != nil {
			return nil, fmt.Errorf("loadgen: --metrics: %w", err)
		}
	}

	// Interviews through the API.
	sims := make([]*sim, cfg.Interviews)
	prog.phase("creating interviews")
	if err := parallel(ctx, 8, len(sims), func(i int) error {
		on := apis[bases[i%len(bases)].String()]
		cr, err := on.createInterview(ctx, fmt.Sprintf("Loadgen Candidate %d", i+1))
		if err != nil {
			return err
		}
		sims[i] = &sim{id: cr.ID, joinURL: cr.JoinURL, api: on}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("loadgen: create interviews: %w", err)
	}

	// Candidates join, a few at a time (as real people do, not all in one millisecond).
	runCtx, stopPeers := context.WithCancel(ctx)
	defer stopPeers()
	var peersWG sync.WaitGroup
	prog.phase("connecting")
	go prog.loop(runCtx)
	// Viewers join before their candidate, as staff open the call page and wait:
	// the server makes a receive-only peer's first offer when there is a track.
	joinViewers := func(i int, s *sim) {
		for k := 0; k < cfg.Viewers; k++ {
			v, err := joinViewer(runCtx, papi, bases[(i+k+1)%len(bases)], cfg.APIToken, s.id, cfg.ViewerMode, &cnt)
			if err != nil {
				st.addError("interview %d viewer: %v", s.id, err)
				continue
			}
			st.mu.Lock()
			s.viewers = append(s.viewers, v)
			st.mu.Unlock()
			peersWG.Add(1)
			go func() { defer peersWG.Done(); v.run(runCtx) }()
		}
	}
	if cfg.Viewers > 0 {
		_ = parallel(ctx, 4, len(sims), func(i int) error { joinViewers(i, sims[i]); return nil })
	}
	_ = parallel(ctx, 4, len(sims), func(i int) error {
		s := sims[i]
		cd, err := joinCandidate(ctx, papi, s.joinURL, cfg.Media, &cnt)
		if err != nil {
			s.err = err
			st.addError("interview %d: %v", s.id, err)
			return nil
		}
		s.cand = cd
		s.api = apiFor(cd.node)
		peersWG.Add(1)
		go func() { defer peersWG.Done(); cd.run(runCtx) }()
		return nil
	})
	// Media starts at each candidate's connection; wait for all (or a deadline).
	connectDeadline := time.After(30*time.Second + time.Duration(cfg.Interviews)*time.Second)
	var mediaWG sync.WaitGroup
	for i, s := range sims {
		if s.cand == nil {
			continue
		}
		select {
		case <-s.cand.connected:
			s.cand.connAt = time.Since(s.cand.joined)
			phase := time.Duration(i) * cfg.Media.Video[0].Duration / time.Duration(len(sims))
			mediaWG.Add(1)
			go func(cd *candidate) { defer mediaWG.Done(); cd.sendMedia(runCtx, phase) }(s.cand)
			prog.connected.Add(1)
		case <-s.cand.failed:
			s.err = fmt.Errorf("connection failed %s", s.cand.lastError())
			st.addError("interview %d: %v", s.id, s.err)
		case <-connectDeadline:
			s.err = errors.New("not connected in time")
			st.addError("interview %d: not connected in time", s.id)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	prog.phase("warm-up")
	if !sleepCtx(ctx, cfg.WarmUp) {
		return nil, ctx.Err()
	}

	// The window.
	before, err := snapshot(ctx, sims, cfg.MetricsURL, hc)
	if err != nil {
		return nil, err
	}
	cpu0 := selfCPU()
	t0 := time.Now()
	prog.phase("measuring")
	prog.resetPeak()
	chWG := sync.WaitGroup{}
	if cfg.ChallengeEvery > 0 {
		for i, s := range sims {
			if s.cand == nil || s.err != nil {
				continue
			}
			chWG.Add(1)
			go func(i int, s *sim) {
				defer chWG.Done()
				first := time.Duration(float64(cfg.ChallengeEvery) * (float64(i) + 0.5) / float64(len(sims)))
				wait := first
				for {
					if !sleepCtx(runCtx, wait) || time.Since(t0) >= cfg.Duration {
						return
					}
					code, err := s.api.post(runCtx, s.id, "challenge")
					switch {
					case err == nil:
						st.mu.Lock()
						st.challengeIssue[i]++
						st.mu.Unlock()
					case code == http.StatusConflict:
						st.mu.Lock()
						rep.ChallengeBusy++
						st.mu.Unlock()
					default:
						st.addError("interview %d: challenge: %v", s.id, err)
					}
					wait = cfg.ChallengeEvery
				}
			}(i, s)
		}
	}
	if !sleepCtx(ctx, cfg.Duration) {
		return nil, ctx.Err()
	}
	window := time.Since(t0)
	after, err := snapshot(ctx, sims, cfg.MetricsURL, hc)
	if err != nil {
		return nil, err
	}
	rep.LoadgenCPU = 100 * (selfCPU() - cpu0).Seconds() / window.Seconds()
	rep.LoadAvgEnd = loadAvg()
	rep.WindowS = window.Seconds()
	rep.FramesSent, rep.AudioSent = cnt.videoFrames.Load(), cnt.audioPackets.Load()
	rep.KeyframeReqs, rep.KeyframesSent = cnt.keyframeReqs.Load(), cnt.keyframesSent.Load()
	rep.Pings, rep.Prompts, rep.ViewerPackets = cnt.pings.Load(), cnt.prompts.Load(), cnt.viewerPackets.Load()

	// Per interview, from the live figures.
	var connectMs []float64
	for i, s := range sims {
		st.mu.Lock()
		iv := Interview{ID: s.id, Issued: st.challengeIssue[i]}
		st.mu.Unlock()
		if s.err != nil {
			iv.Error = s.err.Error()
		}
		if s.cand != nil {
			iv.Node = s.cand.node
		}
		if s.cand != nil && s.err == nil {
			iv.Connected = true
			iv.ConnectMs = float64(s.cand.connAt.Microseconds()) / 1000
			connectMs = append(connectMs, iv.ConnectMs)
			rep.Connected++
		}
		b, a := before.interviews[s.id], after.interviews[s.id]
		if b.Live != nil && a.Live != nil {
			iv.AnalysedFPS = float64(a.Live.FramesAnalysed-b.Live.FramesAnalysed) / window.Seconds()
			iv.DecodedFPS = float64(a.Live.FramesDecoded-b.Live.FramesDecoded) / window.Seconds()
		}
		rep.Interviews = append(rep.Interviews, iv)
	}
	if len(connectMs) > 0 {
		sort.Float64s(connectMs)
		rep.ConnectP50, rep.ConnectMax = connectMs[len(connectMs)/2], connectMs[len(connectMs)-1]
	}
	rep.AnalysedMin = math.Inf(1)
	n := 0
	for _, iv := range rep.Interviews {
		if !iv.Connected {
			continue
		}
		rep.AnalysedFPS += iv.AnalysedFPS
		rep.AnalysedMin = math.Min(rep.AnalysedMin, iv.AnalysedFPS)
		n++
	}
	if n > 0 {
		rep.AnalysedFPS /= float64(n)
	} else {
		rep.AnalysedMin = 0
	}
	if cfg.MetricsURL != "" {
		rep.Server = serverFigures(idle, before.metrics, after.metrics, window, prog.peakRSS())
	}

	// Tear down: stop media, end the interviews, wait for their stored results.
	prog.phase("ending")
	stopPeers()
	chWG.Wait()
	mediaWG.Wait()
	peersWG.Wait()
	if !cfg.KeepOpen {
		for _, s := range sims {
			if _, err := s.api.post(ctx, s.id, "end"); err != nil && !strings.Contains(err.Error(), "409") {
				st.addError("interview %d: end: %v", s.id, err)
			}
		}
		prog.phase("waiting for stored results")
		deadline := time.Now().Add(cfg.ResultTimeout)
		for i, s := range sims {
			for {
				got, err := api.interview(ctx, s.id)
				if err == nil && (got.Session != nil || s.cand == nil) {
					iv := &rep.Interviews[i]
					iv.Status = got.Status
					if got.Session != nil {
						iv.Stored, iv.Analysed = true, got.Session.FramesAnalysed
						iv.Signals, iv.Challenges = len(got.Signals), len(got.Challenges)
						rep.Stored++
					}
					break
				}
				if time.Now().After(deadline) || ctx.Err() != nil {
					st.addError("interview %d: results not stored within %s (%v)", s.id, cfg.ResultTimeout, err)
					break
				}
				sleepCtx(ctx, 200*time.Millisecond)
			}
		}
	}
	prog.done()
	return rep, nil
}

type snap struct {
	interviews map[int64]wire.Interview
	metrics    metrics.Samples
}

func snapshot(ctx context.Context, sims []*sim, metricsURL string, hc *http.Client) (snap, error) {
	out := snap{interviews: map[int64]wire.Interview{}}
	var mu sync.Mutex
	_ = parallel(ctx, 8, len(sims), func(i int) error {
		got, err := sims[i].api.interview(ctx, sims[i].id)
		if err == nil {
			mu.Lock()
			out.interviews[sims[i].id] = got
			mu.Unlock()
		}
		return nil
	})
	if metricsURL != "" {
		var err error
		if out.metrics, err = metrics.Scrape(ctx, hc, metricsURL); err != nil {
			return out, fmt.Errorf("loadgen: scrape: %w", err)
		}
	}
	return out, nil
}

func serverFigures(idle, before, after metrics.Samples, window time.Duration, peakRSS float64) *Server {
	d := metrics.Delta(after, before)
	w := window.Seconds()
	const mb = 1 << 20
	s := &Server{
		CPUPercent:      100 * d.Get("process_cpu_seconds_total") / w,
		RSSIdleMB:       idle.Get("process_resident_memory_bytes") / mb,
		RSSPeakMB:       math.Max(peakRSS, after.Get("process_resident_memory_bytes")) / mb,
		Goroutines:      after.Get("go_goroutines"),
		ReceivedFPS:     d.Get("livecheck_video_frames_received_total") / w,
		DecodedFPS:      d.Get("livecheck_video_frames_decoded_total") / w,
		AnalysedFPS:     d.Sum("livecheck_video_frames_analysed_total") / w,
		DroppedMailbox:  d.Sum("livecheck_video_frames_dropped_total", "stage", "mailbox"),
		DroppedRate:     d.Sum("livecheck_video_frames_dropped_total", "stage", "rate"),
		Refreshed:       d.Get("livecheck_video_frames_refreshed_total"),
		DecodeErrors:    d.Sum("livecheck_video_frames_dropped_total", "stage", "decode_error"),
		ChalAnalysed:    d.Get("livecheck_video_frames_analysed_total", "challenge", "true"),
		ChalDropped:     d.Get("livecheck_video_frames_dropped_total", "stage", "mailbox", "challenge", "true"),
		ChallengesDone:  d.Sum("livecheck_challenges_total"),
		KeyframeReqs:    d.Get("livecheck_keyframe_requests_total"),
		PeersCandidates: after.Get("livecheck_peers", "role", "candidate"),
	}
	analysed := d.Sum("livecheck_video_frames_analysed_total")
	if analysed+s.DroppedMailbox > 0 {
		s.DropPct = 100 * s.DroppedMailbox / (analysed + s.DroppedMailbox)
	}
	if s.ChalAnalysed+s.ChalDropped > 0 {
		s.ChalDropPct = 100 * s.ChalDropped / (s.ChalAnalysed + s.ChalDropped)
	}
	ms := func(q float64, name string, labels ...string) float64 {
		return none(1000 * metrics.Quantile(q, deltaBuckets(d, name, labels...)))
	}
	s.P50Ms = ms(0.5, "livecheck_capture_to_observation_seconds")
	s.P95Ms = ms(0.95, "livecheck_capture_to_observation_seconds")
	s.ChalP95Ms = ms(0.95, "livecheck_capture_to_observation_seconds", "challenge", "true")
	s.PassiveP95Ms = ms(0.95, "livecheck_capture_to_observation_seconds", "challenge", "false")
	for _, st := range []string{"decoded", "queued", "slot", "measured"} {
		if v := ms(0.95, "livecheck_frame_wait_seconds", "stage", st, "challenge", "false"); v >= 0 {
			if s.StagesP95Ms == nil {
				s.StagesP95Ms = map[string]float64{}
			}
			s.StagesP95Ms[st] = v
		}
	}
	s.DecodeP50Ms = ms(0.5, "livecheck_video_decode_seconds")
	s.AnalysisP50Ms = ms(0.5, "livecheck_video_analysis_seconds")
	s.AnalysisP95Ms = ms(0.95, "livecheck_video_analysis_seconds")
	s.DBP95Ms = ms(0.95, "livecheck_db_query_seconds")
	s.VerifyP50S = none(metrics.Quantile(0.5, deltaBuckets(d, "livecheck_challenge_verification_seconds")))
	return s
}

// none maps "no observations" (NaN) to -1, which JSON can carry and reports print as "–".
func none(v float64) float64 {
	if math.IsNaN(v) {
		return -1
	}
	return v
}

func deltaBuckets(d metrics.Samples, name string, labels ...string) []metrics.Bucket {
	return d.Histogram(name, labels...)
}

// parallel runs fn(0..n-1) with at most k at once and returns the first error.
func parallel(ctx context.Context, k, n int, fn func(i int) error) error {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				once.Do(func() { first = err })
			}
		}(i)
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg returns the 1/5/15-minute load averages ("" when unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
