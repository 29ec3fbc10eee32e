// Package metrics holds livecheck's Prometheus collectors: the live room's
// per-stage packet and frame counters, latency histograms, peers and
// interviews, challenge verification, database latency, and the Go runtime and
// process figures. The collectors are process-wide (the room package calls the
// small helpers below from its media goroutines); Handler serves them in the
// Prometheus text format.
//
// Frame stages, in pipeline order (livecheck_video_frames_*_total):
//
//	received  complete VP8 frames assembled from RTP
//	decoded   frames decoded by libvpx (every frame, except the droppable ones skipped between challenges)
//	analysed  frames measured by the vision analyser (or, with LIVECHECK_ANALYSIS=decode, handed to the no-op analyser)
//	dropped   frames that did not reach the analyser, by stage:
//	          decode_error  libvpx refused the frame
//	          assembler     incomplete frames given up by the RTP assembler (counted when the track ends)
//	          mailbox       a newer frame replaced it before the analyser was free (analysis behind)
//	          rate          skipped above the passive analysis rate (by design, never during a challenge)
//	          nonref        not decoded: its VP8 header says no later frame depends on it (a sender's
//	                        top temporal layer), outside challenge windows (LIVECHECK_DECODE_SKIP)
//
// The label challenge="true" marks frames analysed or dropped while a liveness
// challenge was in progress, when every frame must be analysed.
package metrics

import (
	"context"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process-wide registry served by Handler.
var Registry = prometheus.NewRegistry()

// latencyBuckets suit capture→observation and analysis times (seconds).
var latencyBuckets = []float64{.002, .005, .01, .015, .02, .025, .03, .04, .05, .06, .075, .1, .125, .15, .2, .3, .5, 1, 2, 5}

var (
	rtpPackets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livecheck_rtp_packets_received_total", Help: "RTP packets read from published tracks, by media kind.",
	}, []string{"kind"})
	framesReceived = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_video_frames_received_total", Help: "Complete VP8 frames assembled from the candidates' RTP.",
	})
	framesLayer = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livecheck_video_frames_layer_total", Help: "Candidate video frames by the temporal layer their RTP descriptor claims (tid 0-3, or none) and whether the frame's own header makes it droppable (refreshes nothing).",
	}, []string{"tid", "droppable"})
	framesDecoded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_video_frames_decoded_total", Help: "Candidate video frames decoded.",
	})
	framesAnalysed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livecheck_video_frames_analysed_total", Help: "Candidate video frames analysed; challenge=true during a liveness challenge.",
	}, []string{"challenge"})
	framesDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livecheck_video_frames_dropped_total",
		Help: "Candidate video frames that did not reach the analyser, by stage (decode_error, assembler, mailbox, rate); challenge=true during a liveness challenge.",
	}, []string{"stage", "challenge"})
	framesRefreshed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_video_frames_refreshed_total",
		Help: "Analysed frames outside challenges that were newer than the frame due by the analysis rate: the due frame waited for analysis and a newer one took its place (the rate's count is kept).",
	})
	keyframeRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_keyframe_requests_total", Help: "PLIs sent to candidates.",
	})
	audioChunks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_audio_chunks_total", Help: "20 ms audio chunks decoded and measured.",
	})
	audioErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "livecheck_audio_decode_errors_total", Help: "Opus packets that failed to decode.",
	})
	decodeSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "livecheck_video_decode_seconds", Help: "libvpx decode time per frame.",
		Buckets: []float64{.0005, .001, .0015, .002, .003, .005, .0075, .01, .02, .05},
	})
	analysisSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "livecheck_video_analysis_seconds", Help: "Vision analysis time per analysed frame.", Buckets: latencyBuckets,
	})
	captureToObservation = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livecheck_capture_to_observation_seconds",
		Help:    "From a frame's capture time (RTCP-mapped, anchored to arrival) to its observation being available; challenge=true during a challenge.",
		Buckets: latencyBuckets,
	}, []string{"challenge"})
	frameWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livecheck_frame_wait_seconds",
		Help:    "Where an analysed frame's capture→observation time goes, by stage: decoded (capture to the hand-off to analysis: network, assembly, decode), queued (waiting for the session's analysis goroutine), slot (waiting for an analysis slot), measured (the analysis); challenge=true during a challenge.",
		Buckets: latencyBuckets,
	}, []string{"stage", "challenge"})
	challengeVerification = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "livecheck_challenge_verification_seconds",
		Help:    "From a challenge's response deadline to its verified result (grace window, settling and verification).",
		Buckets: []float64{.1, .25, .5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30},
	})
	challenges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "livecheck_challenges_total", Help: "Verified challenges by outcome.",
	}, []string{"outcome"})
	peers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livecheck_peers", Help: "Connected WebRTC peers by role.",
	}, []string{"role"})
	dbSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "livecheck_db_query_seconds", Help: "Duration of the live room's store calls, by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"op"})

	liveMu   sync.Mutex
	liveFunc func() int
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		rtpPackets, framesReceived, framesLayer, framesDecoded, framesAnalysed, framesDropped, framesRefreshed, keyframeRequests,
		audioChunks, audioErrors, decodeSeconds, analysisSeconds, captureToObservation, frameWait,
		challengeVerification, challenges, peers, dbSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livecheck_interviews_active", Help: "Live interview rooms on this server.",
		}, func() float64 {
			liveMu.Lock()
			f := liveFunc
			liveMu.Unlock()
			if f == nil {
				return 0
			}
			return float64(f())
		}),
		poolStats,
	)
	// Every series exists from the start, so that a scrape shows them all.
	for _, k := range []string{"video", "audio"} {
		rtpPackets.WithLabelValues(k)
	}
	for _, c := range []string{"false", "true"} {
		framesAnalysed.WithLabelValues(c)
		captureToObservation.WithLabelValues(c)
		for _, st := range []string{"decoded", "queued", "slot", "measured"} {
			frameWait.WithLabelValues(st, c)
		}
		for _, st := range []string{"decode_error", "assembler", "mailbox", "rate"} {
			framesDropped.WithLabelValues(st, c)
		}
	}
	for _, r := range []string{"candidate", "host", "observer"} {
		peers.WithLabelValues(r)
	}
	for _, o := range []string{"passed", "failed", "inconclusive"} {
		challenges.WithLabelValues(o)
	}
}

func label(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// RTPPacket counts one RTP packet of a published track.
func RTPPacket(video bool) {
	if video {
		rtpVideo.Inc()
	} else {
		rtpAudio.Inc()
	}
}

var (
	rtpVideo = rtpPackets.WithLabelValues("video")
	rtpAudio = rtpPackets.WithLabelValues("audio")
)

// FramesReceived counts n complete frames out of the assembler.
func FramesReceived(n int) {
	if n > 0 {
		framesReceived.Add(float64(n))
	}
}

// FrameLayer counts one received frame by its descriptor's claimed temporal layer (tid < 0:
// none) and its header's verdict. A sender whose top-layer frames are not droppable, or whose
// TL0 frames are, claims what its frames do not do (REDTEAM.md finding 30).
func FrameLayer(tid int, droppable bool) {
	t := "none"
	if tid >= 0 && tid <= 3 {
		t = string(rune('0' + tid))
	}
	framesLayer.WithLabelValues(t, label(droppable)).Inc()
}

// FrameDecoded counts one decoded frame whose decode started at start.
func FrameDecoded(start time.Time) {
	framesDecoded.Inc()
	decodeSeconds.Observe(time.Since(start).Seconds())
}

// FrameDropped counts one frame dropped at stage during (or outside) a challenge.
func FrameDropped(stage string, inChallenge bool) {
	framesDropped.WithLabelValues(stage, label(inChallenge)).Inc()
}

// FrameRefreshed counts one analysed frame that took the place of an older
// due frame waiting for analysis (outside challenges).
func FrameRefreshed() { framesRefreshed.Inc() }

// FramesLost counts n frames the assembler gave up on (incomplete or undecodable without a keyframe).
func FramesLost(n uint64) {
	if n > 0 {
		framesDropped.WithLabelValues("assembler", "false").Add(float64(n))
	}
}

// FrameObserved counts one analysed frame: capture is its capture time, start
// when its analysis began.
func FrameObserved(capture, start time.Time, inChallenge bool) {
	now := time.Now()
	c := label(inChallenge)
	framesAnalysed.WithLabelValues(c).Inc()
	analysisSeconds.Observe(now.Sub(start).Seconds())
	captureToObservation.WithLabelValues(c).Observe(now.Sub(capture).Seconds())
}

// FrameStages records where an analysed frame's time went (FrameObserved has
// the total): capture→queued (handed to the analysis), queued→taken (the
// session's analysis goroutine took it), taken→start (an analysis slot was
// free), start→done (measured).
func FrameStages(capture, queued, taken, start, done time.Time, inChallenge bool) {
	c := label(inChallenge)
	frameWait.WithLabelValues("decoded", c).Observe(queued.Sub(capture).Seconds())
	frameWait.WithLabelValues("queued", c).Observe(taken.Sub(queued).Seconds())
	frameWait.WithLabelValues("slot", c).Observe(start.Sub(taken).Seconds())
	frameWait.WithLabelValues("measured", c).Observe(done.Sub(start).Seconds())
}

// KeyframeRequest counts one PLI sent to a candidate.
func KeyframeRequest() { keyframeRequests.Inc() }

// AudioChunk counts one measured 20 ms audio chunk.
func AudioChunk() { audioChunks.Inc() }

// AudioError counts one Opus packet that failed to decode.
func AudioError() { audioErrors.Inc() }

// ChallengeResult records a verified challenge: its outcome and how long after
// its response deadline the result came.
func ChallengeResult(outcome string, sinceDeadline time.Duration) {
	challenges.WithLabelValues(outcome).Inc()
	if sinceDeadline < 0 {
		sinceDeadline = 0
	}
	challengeVerification.Observe(sinceDeadline.Seconds())
}

// PeerJoined and PeerLeft track connected peers by role.
func PeerJoined(role string) { peers.WithLabelValues(role).Inc() }

// PeerLeft is the counterpart of PeerJoined.
func PeerLeft(role string) { peers.WithLabelValues(role).Dec() }

// SetLiveInterviews sets the function that counts live interview rooms (the
// room manager's Live); the latest call wins.
func SetLiveInterviews(f func() int) {
	liveMu.Lock()
	liveFunc = f
	liveMu.Unlock()
}

// ObserveDB records one store call of operation op that started at start.
func ObserveDB(op string, start time.Time) {
	dbSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// SetPool makes the database pool's statistics (and a ping on every scrape)
// part of the metrics; the latest call wins, nil removes them.
func SetPool(p *pgxpool.Pool) { poolStats.set(p) }

var poolStats = &poolCollector{
	acquired:    prometheus.NewDesc("livecheck_db_pool_acquired_conns", "Database connections in use.", nil, nil),
	idle:        prometheus.NewDesc("livecheck_db_pool_idle_conns", "Idle database connections.", nil, nil),
	total:       prometheus.NewDesc("livecheck_db_pool_total_conns", "Open database connections.", nil, nil),
	acquires:    prometheus.NewDesc("livecheck_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil),
	emptyWaits:  prometheus.NewDesc("livecheck_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil),
	acquireTime: prometheus.NewDesc("livecheck_db_pool_acquire_seconds_total", "Total time spent acquiring connections.", nil, nil),
	ping:        prometheus.NewDesc("livecheck_db_ping_seconds", "Round trip of SELECT 1, measured at scrape time (-1 when it failed).", nil, nil),
}

type poolCollector struct {
	mu                                                             sync.Mutex
	pool                                                           *pgxpool.Pool
	acquired, idle, total, acquires, emptyWaits, acquireTime, ping *prometheus.Desc
}

func (c *poolCollector) set(p *pgxpool.Pool) {
	c.mu.Lock()
	c.pool = p
	c.mu.Unlock()
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.acquires, c.emptyWaits, c.acquireTime, c.ping} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	p := c.pool
	c.mu.Unlock()
	if p == nil {
		return
	}
	st := p.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.emptyWaits, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireTime, prometheus.CounterValue, st.AcquireDuration().Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	v := -1.0
	if err := p.Ping(ctx); err == nil {
		v = time.Since(start).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.ping, prometheus.GaugeValue, v)
}

// Handler serves /metrics (Prometheus text format) and the Go profiler under
// /debug/pprof/. Serve it on a private address only (LIVECHECK_METRICS_LISTEN).
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
