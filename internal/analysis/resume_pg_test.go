package analysis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// TestResumedSessionCoversBothParts, on the database: a live session whose
// node dies 31 s in (only what its write queue stored survives) is resumed
// 20 s later on another node, which ends and judges it. The stored result
// covers both parts: the series from the session's first second to its
// last (the first node's last 1 s, after its last stored part, lost), the
// counters of both, the first part's detector windows, and a detector
// signal condensed from a window only the first part scored. Before the
// measurements went with the checkpoint (migration 013) the series began at
// the resume and the first part's windows were lost.
func TestResumedSessionCoversBothParts(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	var h [16]byte
	_, _ = rand.Read(h[:])
	iv := &models.Interview{CandidateName: "Handed Over", CandidateEmail: "parts@candidate.test", ScheduledAt: t0,
		TokenHash: []byte(hex.EncodeToString(h[:])), ExpiresAt: t0.Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(pgtest.Pool(t), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithJobs(q)
	j := verdict.NewJudge(verdict.Config{Store: st, Risk: risk.DefaultSettings(), BaseURL: "http://x", Now: now})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine := func(node string, w *writeq.Queue) *analysis.Engine {
		return analysis.New(analysis.Config{Logger: quiet, Now: now, AnalysisFPS: -1, Detectors: true, Writes: w,
			Store: analysis.Store{SessionEnded: j.SessionEnded,
				Checkpoint: func(ctx context.Context, cp *analysis.Checkpoint) error {
					return verdict.SaveCheckpoint(ctx, st, node, cp)
				},
				Resume: func(ctx context.Context, id int64) (*analysis.Checkpoint, error) { return verdict.Resume(ctx, st, id) }}})
	}
	var seq uint64
	feed := func(s *analysis.Session, from, to time.Duration) {
		for at := from; at <= to; at += time.Second / 15 {
			seq++
			c := t0.Add(at)
			f := &models.Frame{Width: 64, Height: 48, Capture: c, Seq: seq, Y: make([]byte, 64*48), U: make([]byte, 32*24), V: make([]byte, 32*24)}
			for i := range f.Y {
				f.Y[i] = byte(100 + (i*7+int(seq))%40) // a textured picture that changes: no repeated frames
			}
			for i := range f.U {
				f.U[i], f.V[i] = 128, 128
			}
			clock.Store(c.UnixNano())
			pcm := make([]float32, 3200) // the frame's 1/15 s of a 220 Hz tone
			for i := range pcm {
				pcm[i] = float32(0.1 * math.Sin(2*math.Pi*220*(at.Seconds()+float64(i)/48000)))
			}
			analysis.FeedAudio(s, c, pcm)
			analysis.Feed(t, s, f)
		}
	}

	// The first node: 31 s, then it dies.
	wA := writeq.New(quiet, time.Minute)
	a := engine("node-a", wA).Open(iv.ID, nil)
	feed(a, 0, 31*time.Second)
	wA.Close(ctx)
	analysis.Finish(a, now())
	var parts int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv.ID).Scan(&parts); err != nil || parts != 3 {
		t.Fatalf("%d parts stored (%v), want 3 (at 10, 20 and 30 s)", parts, err)
	}
	var text, stored int
	_ = db.QueryRow(ctx, `SELECT avg(octet_length(data::text))::int, avg(pg_column_size(data))::int FROM session_checkpoint_parts
		WHERE interview_id = $1`, iv.ID).Scan(&text, &stored)
	t.Logf("a 10 s part (15 analysed fps, audio, one detector's windows): %d bytes of JSON, %d stored", text, stored)
	// A window only the first part scored: the texture detector found a smooth face 5 s in
	// (this picture has none; the window is written into the last part as the node would).
	if _, err := db.Exec(ctx, `UPDATE session_checkpoint_parts SET data = jsonb_set(data, '{windows}', coalesce(data->'windows', '[]') ||
			'[{"kind": "texture", "from": "2030-01-02T10:00:05Z", "to": "2030-01-02T10:00:09Z", "score": 0.9, "confidence": 0.8, "value": -0.7}]')
		WHERE interview_id = $1 AND seq = 2`, iv.ID); err != nil {
		t.Fatal(err)
	}

	// The candidate rejoins on another node 20 s later; 9 s more, and the interview ends.
	clock.Store(t0.Add(51 * time.Second).UnixNano())
	wB := writeq.New(quiet, time.Minute)
	b := engine("node-b", wB).Open(iv.ID, nil)
	if b.Resumed().IsZero() {
		t.Fatal("the session did not go on from its checkpoint")
	}
	feed(b, 51*time.Second, 60*time.Second)
	b.End(models.EndCompleted, now())
	wB.Close(ctx)

	series := func(kind string) []models.Point {
		se, err := st.SeriesOf(ctx, iv.ID, kind)
		if err != nil {
			t.Fatal(err)
		}
		var pts []models.Point
		if err := json.Unmarshal(se.Points, &pts); err != nil {
			t.Fatal(err)
		}
		return pts
	}
	// A point per frame from 0 to 30 s (the last part's end; the second after it died
	// with the node), then from 51 to 60 s.
	face := series("face_presence")
	var before, after int
	for _, p := range face {
		switch {
		case p.T <= 31000:
			before++
		case p.T >= 51000:
			after++
		}
	}
	if before < 30*15 || after != 9*15+1 || before+after != len(face) || face[0].T != 0 || face[len(face)-1].T < 59900 {
		t.Fatalf("face presence: %d points up to 31 s, %d from 51 s, of %d from %d to %d ms; want 450+ and 136",
			before, after, len(face), face[0].T, face[len(face)-1].T)
	}
	audio := series("audio_level")
	if len(audio) < 30*50+9*50 || audio[0].T != 0 || audio[len(audio)-1].T < 60000 {
		t.Fatalf("audio level: %d points from %d to %d ms, want both parts", len(audio), audio[0].T, audio[len(audio)-1].T)
	}
	var decoded, analysed int64
	var started time.Time
	var absentJSON []byte
	if err := db.QueryRow(ctx, `SELECT frames_decoded, frames_analysed, started_at, face_absent FROM session_results WHERE interview_id = $1`, iv.ID).
		Scan(&decoded, &analysed, &started, &absentJSON); err != nil {
		t.Fatal(err)
	}
	// No face in this picture: absent in both parts, but not during the time away.
	var absent []models.Interval
	if err := json.Unmarshal(absentJSON, &absent); err != nil {
		t.Fatal(err)
	}
	if len(absent) != 2 || absent[0].From != 0 || absent[0].To > 31000 || absent[1].From != 51000 || absent[1].To < 59900 {
		t.Fatalf("face absent %+v, want 0–30 s and 51–60 s (the time away is not a time without a face)", absent)
	}
	if decoded != int64(len(face)) || analysed != decoded || !started.Equal(t0) {
		t.Fatalf("session results: %d decoded, %d analysed, started %v; want %d of both parts, from %v", decoded, analysed, started, len(face), t0)
	}
	ws, err := st.DetectorWindows(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var first, second int
	for _, w := range ws {
		switch {
		case w.To.Before(t0.Add(31 * time.Second)):
			first++
		case !w.From.Before(t0.Add(51 * time.Second)):
			second++
		default:
			t.Errorf("window %s %v–%v spans the time away", w.Kind, w.From, w.To)
		}
	}
	if first < 7 || second == 0 { // the virtual camera's 4 s windows of the first part, and the injected one
		t.Fatalf("detector windows: %d of the first part, %d of the second", first, second)
	}
	sigs, err := st.Signals(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texture *models.Signal
	for i := range sigs {
		if sigs[i].Kind == detect.KindTexture {
			texture = &sigs[i]
		}
	}
	if texture == nil || texture.Score < 0.85 || texture.Confidence == 0 || !texture.At.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("texture signal %+v, want the first part's window (score 0.9 at 5 s)", texture)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv.ID).Scan(&parts); err != nil || parts != 0 {
		t.Fatalf("%d parts left after the session was stored (%v)", parts, err)
	}
}
