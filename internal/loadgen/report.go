package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/livecheck/livecheck/internal/dsp"
)

func f0(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}

func f1(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

// Print writes a run's final table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "livecheck loadgen %s — %d interview(s), %s window, %s @ %.1f fps in, %d viewer(s) each\n",
		r.Label, r.N, fmt.Sprintf("%.1f s", r.WindowS), r.Resolution, r.VideoFPS, r.Viewers)
	fmt.Fprintf(w, "connected %d/%d (connect p50 %s ms, max %s ms); session results stored %d/%d\n",
		r.Connected, r.N, f0(r.ConnectP50), f0(r.ConnectMax), r.Stored, r.N)
	fmt.Fprintf(w, "analysed per interview: %s fps mean, %s fps min\n", f1(r.AnalysedFPS), f1(r.AnalysedMin))
	if s := r.Server; s != nil {
		per := (s.RSSPeakMB - s.RSSIdleMB) / float64(max(r.N, 1))
		fmt.Fprintf(w, "server: CPU %s %% of one core; RSS idle %s MB, peak %s MB (+%s MB per interview); %s goroutines\n",
			f0(s.CPUPercent), f0(s.RSSIdleMB), f0(s.RSSPeakMB), f1(per), f0(s.Goroutines))
		fmt.Fprintf(w, "frames/s: received %s, decoded %s, analysed %s; dropped because analysis was behind: %s (%s %%); in challenges %s of %s (%s %%); above the passive rate: %s; decode errors %s\n",
			f0(s.ReceivedFPS), f0(s.DecodedFPS), f0(s.AnalysedFPS), f0(s.DroppedMailbox), f1(s.DropPct),
			f0(s.ChalDropped), f0(s.ChalAnalysed+s.ChalDropped), f1(s.ChalDropPct), f0(s.DroppedRate), f0(s.DecodeErrors))
		fmt.Fprintf(w, "capture→observation: p50 %s ms, p95 %s ms (in challenges p95 %s ms); decode p50 %s ms; analysis p50 %s ms, p95 %s ms; DB statement p95 %s ms\n",
			f0(s.P50Ms), f0(s.P95Ms), f0(s.ChalP95Ms), f1(s.DecodeP50Ms), f1(s.AnalysisP50Ms), f1(s.AnalysisP95Ms), f1(s.DBP95Ms))
		fmt.Fprintf(w, "challenges: verified %s in the window (verification p50 %s s after the deadline); PLIs sent %s\n",
			f0(s.ChallengesDone), f1(s.VerifyP50S), f0(s.KeyframeReqs))
	}
	issued := 0
	for _, iv := range r.Interviews {
		issued += iv.Issued
	}
	fmt.Fprintf(w, "client: sent %d frames, %d audio packets; %d keyframe requests → %d keyframe restarts; %d pings answered; %d prompts acknowledged; challenges issued %d (refused busy %d); viewer packets %d; loadgen CPU %s %%\n",
		r.FramesSent, r.AudioSent, r.KeyframeReqs, r.KeyframesSent, r.Pings, r.Prompts, issued, r.ChallengeBusy, r.ViewerPackets, f0(r.LoadgenCPU))
	fmt.Fprintf(w, "load average: %s at start, %s at the end of the window\n", r.LoadAvgStart, r.LoadAvgEnd)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "interview\tconnect ms\tanalysed fps\tdecoded fps\tstatus\tstored\tframes analysed\tsignals\tchallenges\t")
	for _, iv := range r.Interviews {
		st := "no"
		if iv.Stored {
			st = "yes"
		}
		conn := f0(iv.ConnectMs)
		if !iv.Connected {
			conn = "failed"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d/%d\t\n", iv.ID, conn, f1(iv.AnalysedFPS), f1(iv.DecodedFPS), iv.Status, st,
			iv.Analysed, iv.Signals, iv.Challenges, iv.Issued)
	}
	tw.Flush()
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

// ReadReports reads JSON reports, one per line (as written with --json).
func ReadReports(r io.Reader) ([]Report, error) {
	var out []Report
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rep Report
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			return nil, fmt.Errorf("loadgen: report: %w", err)
		}
		out = append(out, rep)
	}
	return out, sc.Err()
}

// BenchTable writes the capacity table (Markdown): for every N, the full
// pipeline's figures beside the decode-only floor's CPU. Runs labelled
// "decode" are the floor; any other label is the full pipeline.
func BenchTable(w io.Writer, reps []Report) {
	full := map[int]*Report{}
	floor := map[int]*Report{}
	var ns []int
	for i := range reps {
		r := &reps[i]
		if r.Label == "decode" {
			floor[r.N] = r
		} else {
			if _, ok := full[r.N]; !ok {
				ns = append(ns, r.N)
			}
			full[r.N] = r
		}
	}
	for n := range floor {
		if _, ok := full[n]; !ok {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	fmt.Fprintln(w, "| N | connected | analysed fps / interview (mean, min) | dropped from analysis % (in challenges) | capture→observation p50 / p95 ms (challenge p95) | server CPU % | RSS MB (per interview) | floor CPU % | full / floor | floor RSS MB (per interview) | loadgen CPU % | load avg (1 min) |")
	fmt.Fprintln(w, "|---:|---:|---|---|---|---:|---|---:|---:|---|---:|---:|")
	for _, n := range ns {
		f, d := full[n], floor[n]
		row := []string{fmt.Sprint(n), "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–"}
		if f != nil {
			row[1] = fmt.Sprintf("%d/%d", f.Connected, f.N)
			row[2] = fmt.Sprintf("%s, %s", f1(f.AnalysedFPS), f1(f.AnalysedMin))
			row[10] = f0(f.LoadgenCPU)
			row[11] = firstField(f.LoadAvgEnd)
			if s := f.Server; s != nil {
				row[3] = fmt.Sprintf("%s (%s of %s = %s)", f1(s.DropPct), f0(s.ChalDropped), f0(s.ChalAnalysed+s.ChalDropped), f1(s.ChalDropPct))
				row[4] = fmt.Sprintf("%s / %s (%s)", f0(s.P50Ms), f0(s.P95Ms), f0(s.ChalP95Ms))
				row[5] = f0(s.CPUPercent)
				row[6] = fmt.Sprintf("%s (%s)", f0(s.RSSPeakMB), f1((s.RSSPeakMB-s.RSSIdleMB)/float64(n)))
			}
		}
		if d != nil && d.Server != nil {
			row[7] = f0(d.Server.CPUPercent)
			row[9] = fmt.Sprintf("%s (%s)", f0(d.Server.RSSPeakMB), f1((d.Server.RSSPeakMB-d.Server.RSSIdleMB)/float64(n)))
			if f != nil && f.Server != nil && d.Server.CPUPercent > 0 {
				row[8] = fmt.Sprintf("%.2f", f.Server.CPUPercent/d.Server.CPUPercent)
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// Projection is capacity estimated from CPU cost per unit of work instead of
// from rates, which a busy shared machine distorts: a starved server analyses
// less, so its CPU and drop figures understate the work N interviews need.
type Projection struct {
	FloorPerInterview float64 // % of one core per interview, decode-only (median over runs with N ≥ 5)
	PerAnalysedFPS    float64 // % of one core per analysed frame per second (median of (full − floor CPU) / analysed fps over unstarved runs)
	PassiveFPS        float64 // analysed fps per interview between challenges
	PerInterview      float64 // full pipeline, % of one core per interview between challenges
	Interviews        float64 // interviews the machine's cores sustain at that cost
	ChallengeShare    float64 // share of time in a challenge (every frame analysed) for InterviewsWithChallenges
	InterviewsWithCh  float64
	Ratio             float64 // full / floor per interview
	Cores             int
}

// Project estimates capacity from the runs; ok is false without paired runs.
func Project(reps []Report, cores int, passiveFPS, inputFPS, challengeShare float64) (p Projection, ok bool) {
	full, floor := map[int]*Report{}, map[int]*Report{}
	for i := range reps {
		r := &reps[i]
		if r.Server == nil {
			continue
		}
		if r.Label == "decode" {
			floor[r.N] = r
		} else {
			full[r.N] = r
		}
	}
	var floors, perFrame []float64
	for n, d := range floor {
		if n >= 5 {
			floors = append(floors, d.Server.CPUPercent/float64(n))
		}
		// Only runs where the analyser kept at least half the passive rate: a starved
		// server's few analysed frames carry the fixed costs and contention of many.
		if f := full[n]; f != nil && f.Server.AnalysedFPS > 1 && f.AnalysedFPS >= passiveFPS/2 {
			perFrame = append(perFrame, (f.Server.CPUPercent-d.Server.CPUPercent)/f.Server.AnalysedFPS)
		}
	}
	if len(floors) == 0 || len(perFrame) == 0 || cores <= 0 {
		return p, false
	}
	p = Projection{FloorPerInterview: dsp.Median(floors), PerAnalysedFPS: dsp.Median(perFrame), PassiveFPS: passiveFPS, Cores: cores,
		ChallengeShare: challengeShare}
	p.PerInterview = p.FloorPerInterview + passiveFPS*p.PerAnalysedFPS
	p.Interviews = float64(cores) * 100 / p.PerInterview
	withCh := p.FloorPerInterview + ((1-challengeShare)*passiveFPS+challengeShare*inputFPS)*p.PerAnalysedFPS
	p.InterviewsWithCh = float64(cores) * 100 / withCh
	p.Ratio = p.PerInterview / p.FloorPerInterview
	return p, true
}

// Print writes the projection as a paragraph.
func (p Projection) Print(w io.Writer) {
	fmt.Fprintf(w, "Projection from CPU per unit of work (medians over the runs; a busy machine distorts rates, less so CPU per work): "+
		"the floor costs %.1f %% of a core per interview; analysis %.2f %% per analysed frame per second (%.1f ms of CPU per frame); "+
		"so the full pipeline at %.1f fps between challenges costs %.1f %% per interview (full / floor %.1f): "+
		"about %.0f interviews on %d dedicated cores, %.0f with %.0f %% of the time in challenges (every frame analysed), before the load generator's share.\n",
		p.FloorPerInterview, p.PerAnalysedFPS, p.PerAnalysedFPS*10, p.PassiveFPS, p.PerInterview, p.Ratio,
		p.Interviews, p.Cores, p.InterviewsWithCh, p.ChallengeShare*100)
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return "–"
}
