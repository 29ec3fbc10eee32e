package verdict_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/models"
)

var t0 = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

// result is a 10 s session: a face in 3 of 4 analysed frames, 2 s without
// one, one passed and one failed challenge, challenges locked, one detector
// signal and one further stage's.
func result(id int64) *analysis.Result {
	r := &analysis.Result{InterviewID: id, Reason: models.EndCompleted, StartedAt: t0, EndedAt: t0.Add(10 * time.Second),
		FramesDecoded: 100, FramesAnalysed: 4, Video: true, Audio: true,
		FacePresence:    []models.Point{{T: 0, V: 1}, {T: 1000, V: 0}, {T: 3000, V: 1}, {T: 4000, V: 1}},
		FaceAbsent:      []models.Interval{{From: 1000, To: 3000}},
		AudioLevel:      []models.Point{{T: 0, V: -20}, {T: 20, V: -60}},
		DetectorSignals: []models.Signal{{Kind: "seam", Score: 0.2, Confidence: 0.5, Reason: "x"}},
		Challenges: []challenge.Result{
			{ID: "a", Kind: challenge.KindBlink, Outcome: challenge.OutcomePassed, Issued: t0.Add(time.Second), Peak: 0.1},
			{ID: "b", Kind: challenge.KindTurnHead, Outcome: challenge.OutcomeFailed, Reason: "no turn", Issued: t0.Add(5 * time.Second)},
		},
		ChallengeFailures: 1, Locked: true,
		StageSignals: []models.Signal{{Kind: "face_match", Score: 0, Confidence: 0.9, Reason: "same face"}},
	}
	return r
}

func TestSignalsMapEverySource(t *testing.T) {
	sigs := verdict.Signals(result(1))
	var kinds []string
	byKind := map[string]models.Signal{}
	for _, sg := range sigs {
		kinds = append(kinds, sg.Kind)
		byKind[sg.Kind] = sg
	}
	want := []string{"face_presence", "face_absent", "camera_off", "audio_level", "seam", "challenges_locked",
		"challenge_blink", "challenge_turn_head", "face_match"}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v (in this order)", kinds, want)
		}
	}
	if fp := byKind["face_presence"]; fp.Value != 0.75 || fp.Score != 0.031 || fp.Confidence != 0.027 {
		t.Errorf("face_presence %+v", fp)
	}
	if fa := byKind["face_absent"]; fa.Value != 2 || fa.Score != 0.4 {
		t.Errorf("face_absent %+v: 2 s of 10 scores 2·0.2", fa)
	}
	if tf := byKind["challenge_turn_head"]; tf.Score != 1 || tf.Reason != "turn_head failed: no turn" {
		t.Errorf("failed challenge %+v", tf)
	}
	if al := byKind["audio_level"]; al.Value != -40 || al.Score != 0 {
		t.Errorf("audio_level %+v", al)
	}

	// Every challenge inconclusive (at least two): challenge_none_passed, which leads to review.
	r0 := result(1)
	r0.Locked, r0.ChallengeFailures = false, 0
	r0.Challenges = []challenge.Result{
		{ID: "a", Kind: challenge.KindBlink, Outcome: challenge.OutcomeInconclusive, Reason: "no video", Issued: t0.Add(time.Second)},
		{ID: "b", Kind: challenge.KindFlash, Outcome: challenge.OutcomeInconclusive, Reason: "no video", Issued: t0.Add(5 * time.Second)},
	}
	var none *models.Signal
	for _, sg := range verdict.Signals(r0) {
		if sg.Kind == "challenge_none_passed" {
			none = &sg
		}
	}
	if none == nil || none.Score != 1 || none.Value != 2 {
		t.Errorf("two inconclusive challenges: challenge_none_passed %+v", none)
	}
	if v := risk.Score([]models.Signal{*none}, risk.DefaultSettings()); v.Decision == risk.Verified {
		t.Errorf("challenge_none_passed alone: %s (score %v), want review", v.Decision, v.Score)
	}
	for _, sg := range verdict.Signals(result(1)) {
		if sg.Kind == "challenge_none_passed" {
			t.Error("challenge_none_passed with a passed challenge")
		}
	}

	// Movement challenges passed late (a relayed stream): challenge_latency scores; on time it does not.
	for _, c := range []struct {
		lat  time.Duration
		want float64
	}{{2600 * time.Millisecond, 1}, {2000 * time.Millisecond, 0.5}, {800 * time.Millisecond, 0}} {
		r := result(1)
		r.Locked, r.ChallengeFailures = false, 0
		r.Challenges = nil
		for i, k := range []challenge.Kind{challenge.KindTurnHead, challenge.KindCoverFace, challenge.KindBlink} {
			is := t0.Add(time.Duration(i) * 20 * time.Second)
			r.Challenges = append(r.Challenges, challenge.Result{ID: string(k), Kind: k, Outcome: challenge.OutcomePassed, Issued: is,
				Onset: is.Add(c.lat), OnsetLatency: c.lat})
		}
		var lat *models.Signal
		for _, sg := range verdict.Signals(r) {
			if sg.Kind == "challenge_latency" {
				lat = &sg
			}
		}
		if lat == nil || math.Abs(lat.Score-c.want) > 0.001 || math.Abs(lat.Value-c.lat.Seconds()) > 0.01 {
			t.Errorf("onsets %v: challenge_latency %+v, want score %v", c.lat, lat, c.want)
		}
		if v := risk.Score(verdict.Signals(r), risk.DefaultSettings()); (c.want == 1 || c.want == 0) && (v.Decision == risk.Verified) != (c.want == 0) {
			t.Errorf("onsets %v: %s (score %v)", c.lat, v.Decision, v.Score)
		}
	}

	// A recording without sound gets no audio signal; one without video none about the face.
	r := result(1)
	r.Audio = false
	for _, sg := range verdict.Signals(r) {
		if sg.Kind == "audio_level" {
			t.Error("audio_level made for a session without audio")
		}
	}
	r = result(1)
	r.Video, r.FacePresence, r.FramesAnalysed = false, nil, 0
	for _, sg := range verdict.Signals(r) {
		if sg.Kind == "face_presence" || sg.Kind == "face_absent" || sg.Kind == "camera_off" {
			t.Errorf("%s made for a session without video", sg.Kind)
		}
	}
	// A live session whose video never arrived is suspicious; one whose analyser could not start is not judged on it.
	r = result(1)
	r.FacePresence, r.FramesAnalysed = nil, 0
	if fp, ok := find(verdict.Signals(r), "face_presence"); !ok || fp.Score != 0.5 {
		t.Errorf("no analysed frame: %+v %v", fp, ok)
	}
	r.AnalyserUnavailable = true
	if _, ok := find(verdict.Signals(r), "face_presence"); ok {
		t.Error("face_presence made although the analyser was unavailable")
	}
}

func find(sigs []models.Signal, kind string) (models.Signal, bool) {
	for _, sg := range sigs {
		if sg.Kind == kind {
			return sg, true
		}
	}
	return models.Signal{}, false
}

func TestStatus(t *testing.T) {
	r := result(1)
	if s := verdict.Status(r, risk.Verdict{Decision: risk.Verified}); s != models.StatusFlagged {
		t.Errorf("locked challenges: %s, want flagged", s)
	}
	r.Locked = false
	if s := verdict.Status(r, risk.Verdict{Decision: risk.Review}); s != models.StatusCompleted {
		t.Errorf("review: %s, want completed", s)
	}
	if s := verdict.Status(r, risk.Verdict{Decision: risk.Failed}); s != models.StatusFlagged {
		t.Errorf("failed: %s, want flagged", s)
	}
	r.Reason = models.EndInterrupted
	if s := verdict.Status(r, risk.Verdict{Decision: risk.Failed}); s != models.StatusInterrupted {
		t.Errorf("interrupted: %s", s)
	}
}

// TestSessionEndedStoresOnce runs the live judgement against Postgres twice,
// as the write queue does when a commit's answer is lost: one session, one
// verdict, the signals of the first computation, the flagged status.
func TestSessionEndedStoresOnce(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	var h [16]byte
	_, _ = rand.Read(h[:])
	iv := &models.Interview{CandidateName: "Verdict Test", CandidateEmail: "verdict@candidate.test", ClaimedCity: "Lisbon",
		ClaimedCountry: "Portugal", ScheduledAt: t0, TokenHash: []byte(hex.EncodeToString(h[:])), ExpiresAt: t0.Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(pgtest.Pool(t), jobs.Config{}) // insert-only: webhook deliveries are queued in the verdict's transaction
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithJobs(q)
	j := verdict.NewJudge(verdict.Config{Store: st, Risk: risk.DefaultSettings(), BaseURL: "http://x",
		Now: func() time.Time { return t0.Add(11 * time.Second) }})
	r := result(iv.ID)
	for range 2 {
		if err := j.SessionEnded(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := st.Verdicts(ctx, iv.ID)
	if err != nil || len(vs) != 1 || vs[0].Trigger != store.TriggerSessionEnd {
		t.Fatalf("verdicts after a retried judgement: %v %+v", err, vs)
	}
	sigs, err := st.Signals(ctx, iv.ID)
	if err != nil || len(sigs) != len(verdict.Signals(r)) || vs[0].SignalCount != len(sigs) {
		t.Fatalf("signals %d (%v), verdict counted %d, mapped %d", len(sigs), err, vs[0].SignalCount, len(verdict.Signals(r)))
	}
	got, err := st.Interview(ctx, iv.ID)
	if err != nil || got.Status != models.StatusFlagged {
		t.Fatalf("status %v %v, want flagged (challenges locked)", got, err)
	}
	// Rescore reads the stored signals back and scores them the same way.
	re, err := verdict.Rescore(ctx, st, iv.ID, risk.DefaultSettings(), verdict.RescoreOptions{})
	if err != nil || re.Previous == nil || re.Verdict.Score != vs[0].Score || re.Signals != len(sigs) {
		t.Fatalf("rescore %+v %v, stored %.1f", re, err, vs[0].Score)
	}
	vs, err = st.Verdicts(ctx, iv.ID)
	if err != nil || len(vs) != 2 || vs[0].Trigger == vs[1].Trigger {
		t.Fatalf("after rescore: %d verdicts (%v), want the session's and the rescore's", len(vs), err)
	}
}

// TestFailedAnalysisGoesToReview: a session whose analysis stopped after an
// internal error keeps its evidence and says so, and is never verified on
// the part that was measured.
func TestFailedAnalysisGoesToReview(t *testing.T) {
	r := &analysis.Result{InterviewID: 1, Reason: models.EndCompleted, StartedAt: t0, EndedAt: t0.Add(time.Minute), Video: true, Audio: true,
		FramesAnalysed: 300, FacePresence: make([]models.Point, 300), AudioLevel: []models.Point{{V: -20}}}
	for i := range r.FacePresence {
		r.FacePresence[i] = models.Point{T: int64(i) * 100, V: 1}
	}
	if _, v := verdict.Of(r, risk.DefaultSettings()); v.Decision != risk.Verified {
		t.Fatalf("the clean session is %s (%.1f), want verified: the test needs a clean baseline", v.Decision, v.Score)
	}
	r.Failure, r.FailedAt = "passive detectors", t0.Add(20*time.Second)
	sigs, v := verdict.Of(r, risk.DefaultSettings())
	sg, ok := find(sigs, verdict.KindAnalysisError)
	if !ok || sg.Score != 1 || !strings.Contains(sg.Reason, "passive detectors, 20s into the session") {
		t.Fatalf("analysis_error signal %+v %v", sg, ok)
	}
	if v.Decision == risk.Verified {
		t.Errorf("a session whose analysis failed is %s (%.1f)", v.Decision, v.Score)
	}
}

// TestFrameCadenceSignal: a live source that skipped 40 % of its frames (the red team's
// dropping swap) is sent to review by frame_cadence alone; a steady one scores 0; too short a
// session, or a recording (no cadence), makes no signal.
func TestFrameCadenceSignal(t *testing.T) {
	find := func(r *analysis.Result) *models.Signal {
		for _, sg := range verdict.Signals(r) {
			if sg.Kind == "frame_cadence" {
				return &sg
			}
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		cad       *analysis.Cadence
		want      float64 // score; -1: no signal
		wantRevew bool
	}{
		{"40 % skipped", &analysis.Cadence{Intervals: 540, Seconds: 60, Missing: 360}, 1, true},
		{"22.5 % skipped", &analysis.Cadence{Intervals: 620, Seconds: 60, Missing: 180}, 0.5, false},
		// 20 % in each of 20 windows (spread 0.06): 7.5 standard errors above 10 %, certain.
		{"20 % skipped, window after window", &analysis.Cadence{Intervals: 640, Seconds: 53, Missing: 160,
			Windows: 20, ShareSum: 4, Share2: 20*0.04 + 19*0.0036}, 1, true},
		// 20 % on average, but in two windows of 20: bursts (a hiccup, a tab switch), not a cadence.
		{"20 % skipped in bursts", &analysis.Cadence{Intervals: 640, Seconds: 53, Missing: 160,
			Windows: 20, ShareSum: 4, Share2: 2 * 4}, 0.333, false},
		{"steady", &analysis.Cadence{Intervals: 890, Seconds: 60, Missing: 9, Windows: 28, ShareSum: 0.28, Share2: 28 * 1e-4}, 0, false},
		{"too short", &analysis.Cadence{Intervals: 100, Seconds: 10, Missing: 60}, -1, false},
		{"recording", nil, -1, false},
	} {
		r := result(1)
		r.Cadence = c.cad
		sg := find(r)
		if c.want < 0 {
			if sg != nil {
				t.Errorf("%s: %+v, want no frame_cadence", c.name, *sg)
			}
			continue
		}
		if sg == nil || math.Abs(sg.Score-c.want) > 0.01 {
			t.Fatalf("%s: frame_cadence %+v, want score %v", c.name, sg, c.want)
		}
		if !strings.Contains(sg.Reason, "skipped") {
			t.Errorf("%s: reason %q", c.name, sg.Reason)
		}
		v := risk.Score([]models.Signal{*sg}, risk.DefaultSettings())
		if got := v.Score >= risk.DefaultReviewAt; got != c.wantRevew {
			t.Errorf("%s alone: risk %v (%s), want review %v", c.name, v.Score, v.Decision, c.wantRevew)
		}
	}
}

// TestMotionStallSignal: movement challenges whose moving frames stalled as a virtual camera
// repeating a fifth of a swap's frames makes them (11 in 64 through VP8) send the session to
// review alone; an honest share (the dev set's genuine recordings: 4 in 371, at most 1 in a
// clip), one stall, or too few moving frames do not.
func TestMotionStallSignal(t *testing.T) {
	ch := func(moving, stalls float64) challenge.Result {
		return challenge.Result{Kind: challenge.KindTurnHead, Outcome: challenge.OutcomePassed,
			Metrics: map[string]float64{challenge.MetricStallMoving: moving, challenge.MetricStalls: stalls}}
	}
	for _, c := range []struct {
		name       string
		rs         []challenge.Result
		want       float64 // score; -1: no signal
		wantReview bool
	}{
		{"fps_repeat: 7 of 50", []challenge.Result{ch(12, 2), ch(13, 1), ch(10, 2), ch(15, 2)}, 1, true},
		{"honest: 1 of 60", []challenge.Result{ch(15, 0), ch(15, 1), ch(15, 0), ch(15, 0)}, 0, false},
		{"one turn_head, 2 of 8", []challenge.Result{ch(8, 2), ch(12, 0)}, 1, true},
		{"2 of 12", []challenge.Result{ch(12, 2)}, 1, true},
		// The live probe's single turn_heads of swap/fps_repeat (REDTEAM.md finding 16):
		// a repeat takes its neighbours out of the moving frames.
		{"live swap: 2 of 5", []challenge.Result{ch(5, 2)}, 1, true},
		{"live swap: 1 of 8", []challenge.Result{ch(8, 1)}, 0, false},
		{"1 stall in 10: too few", []challenge.Result{ch(10, 1)}, 0, false},
		{"2 of 40 (5 %)", []challenge.Result{ch(20, 1), ch(20, 1)}, 0, false},
		{"2 chance stalls in 30 (7 %)", []challenge.Result{ch(15, 1), ch(15, 1)}, 0.17, false},
		{"4 of 50 (8 %)", []challenge.Result{ch(25, 2), ch(25, 2)}, 0.5, false},
		{"too few moving frames", []challenge.Result{ch(4, 2)}, -1, false},
		{"no movement challenge", []challenge.Result{{Kind: challenge.KindBlink, Outcome: challenge.OutcomePassed}}, -1, false},
	} {
		r := result(1)
		r.Challenges = c.rs
		var sg *models.Signal
		for _, s := range verdict.Signals(r) {
			if s.Kind == "motion_stall" {
				sg = &s
			}
		}
		if c.want < 0 {
			if sg != nil {
				t.Errorf("%s: %+v, want no motion_stall", c.name, *sg)
			}
			continue
		}
		if sg == nil || math.Abs(sg.Score-c.want) > 0.01 {
			t.Fatalf("%s: motion_stall %+v, want score %v", c.name, sg, c.want)
		}
		v := risk.Score([]models.Signal{*sg}, risk.DefaultSettings())
		if got := v.Score >= risk.DefaultReviewAt; got != c.wantReview {
			t.Errorf("%s alone: risk %v (%s), want review %v", c.name, v.Score, v.Decision, c.wantReview)
		}
	}
}

// TestDelayUnmeasured: a session whose flashes (the slow fade and the reissue included) were
// all inconclusive never measured its video's delay: challenge_delay_unmeasured sends it to
// review, never to failed on its own or with the inconclusive flashes' own weak signals. A
// flash passed or failed measured it; no flash issued, or every challenge inconclusive
// (challenge_none_passed), makes no such signal.
func TestDelayUnmeasured(t *testing.T) {
	flash := func(id string, out challenge.Outcome, reason string, attempt int, fade bool) challenge.Result {
		return challenge.Result{ID: id, Kind: challenge.KindFlash, Outcome: out, Reason: reason, Attempt: attempt,
			Params: challenge.Params{Fade: fade, Colors: []string{"#ff0000", "#00ff00"}, StepMS: 400}, Issued: t0.Add(time.Duration(attempt) * 20 * time.Second)}
	}
	passed := func(k challenge.Kind, i int) challenge.Result {
		is := t0.Add(time.Duration(60+20*i) * time.Second)
		return challenge.Result{ID: string(k), Kind: k, Outcome: challenge.OutcomePassed, Issued: is, Onset: is.Add(800 * time.Millisecond), OnsetLatency: 800 * time.Millisecond}
	}
	others := []challenge.Result{passed(challenge.KindCoverFace, 0), passed(challenge.KindTurnHead, 1), passed(challenge.KindReadDigits, 2), passed(challenge.KindMoveCloser, 3)}
	weak, late := challenge.ReasonWeakFlash, challenge.ReasonLate
	inc, pass, fail := challenge.OutcomeInconclusive, challenge.OutcomePassed, challenge.OutcomeFailed
	for _, c := range []struct {
		name   string
		rs     []challenge.Result
		want   bool   // the signal is made
		reason string // in its reason
	}{
		{"weak reflection, reissued weak (voiceconv's verified interview)", append([]challenge.Result{flash("f1", inc, weak, 1, false), flash("f2", inc, weak, 2, false)}, others...), true, "weak reflection ×2"},
		{"slow fades, weak then no video", append([]challenge.Result{flash("f1", inc, weak, 1, true), flash("f2", inc, challenge.ReasonNoVideo, 2, true)}, others...), true, "2 of them slow fades"},
		{"weak, the reissue passed", append([]challenge.Result{flash("f1", inc, weak, 1, false), flash("f2", pass, "", 2, false)}, others...), false, ""},
		{"late, the reissue failed late", append([]challenge.Result{flash("f1", inc, challenge.ReasonLateOnce, 1, false), flash("f2", fail, late, 2, false)}, others...), false, ""},
		{"passed at once", append([]challenge.Result{flash("f1", pass, "", 1, false)}, others...), false, ""},
		{"no flash issued", others, false, ""},
		{"every challenge inconclusive", []challenge.Result{flash("f1", inc, weak, 1, false), flash("f2", inc, weak, 2, false),
			{ID: "b", Kind: challenge.KindBlink, Outcome: inc, Reason: challenge.ReasonNoVideo}}, false, ""},
	} {
		// A clean session (verified without challenges: TestFailedAnalysisGoesToReview's).
		r := &analysis.Result{InterviewID: 1, Reason: models.EndCompleted, StartedAt: t0, EndedAt: t0.Add(3 * time.Minute), Video: true, Audio: true,
			FramesAnalysed: 300, FacePresence: make([]models.Point, 300), AudioLevel: []models.Point{{V: -20}}, Challenges: c.rs}
		for i := range r.FacePresence {
			r.FacePresence[i] = models.Point{T: int64(i) * 100, V: 1}
		}
		sigs, v := verdict.Of(r, risk.DefaultSettings())
		sg, ok := find(sigs, verdict.KindDelayUnmeasured)
		if ok != c.want {
			t.Errorf("%s: challenge_delay_unmeasured %v (%+v), want %v", c.name, ok, sg, c.want)
			continue
		}
		if !c.want {
			// A flash measured on time, or none issued, with the rest passed: verified.
			if (c.name == "passed at once" || c.name == "no flash issued") && v.Decision != risk.Verified {
				t.Errorf("%s: %s (%.1f), want verified", c.name, v.Decision, v.Score)
			}
			continue
		}
		if sg.Score != 1 || sg.Value != 2 || !strings.Contains(sg.Reason, c.reason) || !strings.Contains(sg.Reason, "delay was not measured") {
			t.Errorf("%s: %+v, want score 1, value 2, reason with %q", c.name, sg, c.reason)
		}
		// Review, not failed: with the two inconclusive flashes' weak signals and every other
		// challenge passed (risk 1 − 0.6·(1 − 0.8·(1 − 0.94²)) ≈ 45.6).
		if v.Decision != risk.Review {
			t.Errorf("%s: %s (%.1f), want review", c.name, v.Decision, v.Score)
		}
		if alone := risk.Score([]models.Signal{sg}, risk.DefaultSettings()); alone.Decision != risk.Review {
			t.Errorf("%s alone: %s (%.1f), want review", c.name, alone.Decision, alone.Score)
		}
	}
	// The honest flash outcomes keep an honest session verified.
	r := &analysis.Result{InterviewID: 1, Reason: models.EndCompleted, StartedAt: t0, EndedAt: t0.Add(3 * time.Minute), Video: true, Audio: true,
		FramesAnalysed: 300, FacePresence: make([]models.Point, 300), AudioLevel: []models.Point{{V: -20}},
		Challenges: append([]challenge.Result{flash("f1", inc, weak, 1, false), flash("f2", pass, "", 2, false)}, others...)}
	for i := range r.FacePresence {
		r.FacePresence[i] = models.Point{T: int64(i) * 100, V: 1}
	}
	if _, v := verdict.Of(r, risk.DefaultSettings()); v.Decision != risk.Verified {
		t.Errorf("a weak flash whose long reissue passed: %s (%.1f), want verified", v.Decision, v.Score)
	}
}
