package analysis

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/models"
)

// BenchmarkLivePipeline is the server's video path without the network:
// BENCH_SESSIONS (default 12) live sessions, each fed the 15 fps loadgen-like
// recording (faceIVF, looped) as RTP packets in real time for BENCH_SECONDS
// (default 8), decoded on each track's goroutine and analysed at the default
// rate through one Gate of NumCPU slots (DecodeNice BENCH_NICE, default 0),
// without and with the refresh of waiting frames (frameQueue) in turn,
// BENCH_ROUNDS times (default 1); with BENCH_COMPARE=oldest-first the arms
// are the Gate's order instead (first come first served, then the oldest
// frame first; refresh on in both). It reports the passive frames' capture→observation p50 / p95 and the
// p95 of each stage (livecheck_frame_wait_seconds), the analysed fps per
// session and the process's CPU per decoded frame. The arms share the
// machine's load in turn; compare them within a run (-count).
func BenchmarkLivePipeline(b *testing.B) {
	sessions, secs := 12, 8
	if n, err := strconv.Atoi(os.Getenv("BENCH_SESSIONS")); err == nil && n > 0 {
		sessions = n
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_SECONDS")); err == nil && n > 0 {
		secs = n
	}
	_, newAnalyzer := visionFactory(b)
	frames := packetizeIVF(b, faceIVF(b))
	const loopTS = 4 * 90000 // the recording's length in RTP ticks
	nice, _ := strconv.Atoi(os.Getenv("BENCH_NICE"))
	defer func(l int) { refreshLimit = l }(refreshLimit)
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	defer func(o bool) { gateOldestFirst = o }(gateOldestFirst)
	edf := os.Getenv("BENCH_COMPARE") == "oldest-first"
	for arm := range 2 * rounds { // the arms alternate, so that a change of the machine's load hits both
		name := ""
		if edf { // the Gate's order: first come first served, then the oldest frame first
			gateOldestFirst = arm%2 == 1
			name = "oldest-first=" + strconv.FormatBool(gateOldestFirst)
		} else {
			refresh := maxRefreshes * (arm % 2)
			refreshLimit = refresh
			name = "refresh=" + strconv.Itoa(refresh)
		}
		b.Run(name, func(b *testing.B) {
			e := New(Config{NewAnalyzer: newAnalyzer, Detectors: true, Logger: quietLogger(), Gate: NewGate(runtime.NumCPU()),
				DecodeNice: nice})
			h0 := gatherHistograms(b)
			cpu0 := cpuTime()
			start := time.Now()
			var wg sync.WaitGroup
			ss := make([]*Session, sessions)
			for i := range ss {
				ss[i] = e.Open(int64(i+1), nil)
				sink, err := ss[i].Track(media.TrackInfo{Video: true, ClockRate: 90000, SSRC: 0x1234})
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func(sink media.PacketSink, phase time.Duration) {
					defer wg.Done()
					defer sink.Close()
					time.Sleep(phase)
					t0 := time.Now()
					var seq uint16
					for n := 0; n < secs*15; n++ {
						at := t0.Add(time.Duration(n) * time.Second / 15)
						time.Sleep(time.Until(at))
						fr := frames[n%len(frames)]
						loop := uint32(n / len(frames))
						for _, p := range fr.pkts {
							q := &rtp.Packet{Header: p.Header, Payload: p.Payload}
							q.Timestamp += loop * loopTS
							q.SequenceNumber = seq
							seq++
							sink.WriteRTP(q, time.Now())
						}
					}
				}(sink, time.Duration(i)*time.Second/15/time.Duration(sessions))
			}
			wg.Wait()
			var decoded, analysed uint64
			for _, s := range ss {
				r := s.finish(models.EndCompleted, time.Now())
				decoded += r.FramesDecoded
				analysed += r.FramesAnalysed
			}
			cpu := cpuTime() - cpu0
			el := time.Since(start).Seconds()
			h1 := gatherHistograms(b)
			q := func(name string, quant float64) float64 {
				c1, c0 := h1[name], h0[name]
				d := make([]float64, len(c1))
				for i := range c1 {
					d[i] = c1[i]
					if i < len(c0) {
						d[i] -= c0[i]
					}
				}
				return bucketQuantile(d, quant) * 1000
			}
			b.ReportMetric(q("obs", 0.5), "p50-ms")
			b.ReportMetric(q("obs", 0.95), "p95-ms")
			for _, st := range []string{"decoded", "queued", "slot", "measured"} {
				b.ReportMetric(q(st, 0.95), st+"-p95-ms")
			}
			b.ReportMetric(float64(analysed)/float64(sessions)/el, "analysed-fps/session")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(max(1, decoded)), "cpu-ms/decoded")
			b.ReportMetric(100*cpu.Seconds()/el, "cpu-%")
		})
	}
}

// gatherHistograms reads the cumulative bucket counts (the count last) of
// the passive frames' capture→observation ("obs") and of each stage of
// livecheck_frame_wait_seconds.
func gatherHistograms(b *testing.B) map[string][]float64 {
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		if name != "livecheck_capture_to_observation_seconds" && name != "livecheck_frame_wait_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			key, passive := "obs", false
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "challenge":
					passive = l.GetValue() == "false"
				case "stage":
					key = l.GetValue()
				}
			}
			if !passive {
				continue
			}
			var c []float64
			for _, bk := range m.GetHistogram().GetBucket() {
				c = append(c, float64(bk.GetCumulativeCount()))
			}
			out[key] = append(c, float64(m.GetHistogram().GetSampleCount()))
		}
	}
	return out
}
