package verdict_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

// faces is the converted face model (scripts/setup.sh) and the process's
// landmark model.
func faces(t testing.TB) (*faceid.Model, vision.Config) {
	t.Helper()
	lm, err := vision.LoadLandmarker("")
	if err != nil {
		t.Fatalf("%v — run `make setup`", err)
	}
	return facetest.Model(t), vision.Config{Landmarker: lm}
}

// identityOf runs the identity check of a session on a few frames of a
// still (testdata/faces) moved a little between frames, as the analysis
// stage does, and returns its report.
func identityOf(t *testing.T, still string, start time.Time, variant int) *faceid.Report {
	t.Helper()
	rep, _ := identityOfStills(t, []string{still, still, still, still}, start, variant)
	return rep
}

// identityOfStills is identityOf with one still per frame (one second
// apart); it also returns the identity_change signal as the analysis's
// identity stage makes it.
func identityOfStills(t *testing.T, stills []string, start time.Time, variant int) (*faceid.Report, []models.Signal) {
	t.Helper()
	m, vcfg := faces(t)
	an, err := vision.NewAnalyzer(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	ids := faceid.NewSession(m, faceid.SessionConfig{Every: time.Second})
	for i, still := range stills {
		img := visiontest.LoadBGR(t, still, 640, 480)
		shifted := gocv.NewMat()
		rot := gocv.GetRotationMatrix2D(image.Pt(320, 240), 0, 1+0.02*float64(i)-0.01*float64(variant))
		rot.SetDoubleAt(0, 2, rot.GetDoubleAt(0, 2)+float64(6*i+5*variant))
		gocv.WarpAffine(img, &shifted, rot, image.Pt(640, 480))
		rot.Close()
		img.Close()
		f := vision.FrameFromImage(shifted)
		shifted.Close()
		f.Capture = start.Add(time.Duration(i) * time.Second)
		o, err := an.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		o.At = f.Capture
		if _, _, err := ids.Observe(f, &o); err != nil {
			t.Fatal(err)
		}
	}
	rep := ids.Report()
	if _, ok := rep.MainIdentity(); !ok {
		t.Fatalf("%v: no face embedded (%v)", stills, rep.Rejected)
	}
	sg, _ := ids.Signal(start)
	return rep, []models.Signal{sg}
}

// identityEnv is a judge on a real Postgres schema (a rolled-back
// transaction) and a way to make interviews.
type identityEnv struct {
	st    *store.Store
	judge *verdict.Judge
	n     int
	base  time.Time // sessions start a minute apart from here
}

func newIdentityEnv(t *testing.T) *identityEnv {
	st, _ := pgtest.Tx(t)
	q, err := jobs.New(pgtest.Pool(t), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithJobs(q)
	return &identityEnv{st: st, judge: verdict.NewJudge(verdict.Config{Store: st, Risk: risk.DefaultSettings(), BaseURL: "http://x",
		ReuseDays: 30}), // the real clock: Rescore's verdicts take the database's time
		base: time.Now().Add(-time.Hour).Truncate(time.Millisecond)}
}

func (e *identityEnv) interview(t *testing.T, name, email string) *models.Interview {
	t.Helper()
	var h [16]byte
	_, _ = rand.Read(h[:])
	iv := &models.Interview{CandidateName: name, CandidateEmail: email, ClaimedCity: "Lisbon", ClaimedCountry: "Portugal",
		ScheduledAt: t0, TokenHash: []byte(hex.EncodeToString(h[:])), ExpiresAt: t0.Add(72 * time.Hour)}
	if err := e.st.CreateInterview(context.Background(), iv); err != nil {
		t.Fatal(err)
	}
	return iv
}

// session judges and stores a session of interview iv showing still (or,
// with more, one still per second).
func (e *identityEnv) session(t *testing.T, iv *models.Interview, still string, more ...string) {
	t.Helper()
	e.n++
	start := e.base.Add(time.Duration(e.n) * time.Minute)
	stills := []string{still, still, still, still}
	if len(more) > 0 {
		stills = append([]string{still}, more...)
	}
	rep, sigs := identityOfStills(t, stills, start, e.n)
	r := &analysis.Result{InterviewID: iv.ID, Reason: models.EndCompleted, StartedAt: start, EndedAt: start.Add(10 * time.Second),
		Video: true, FramesAnalysed: 4, FacePresence: []models.Point{{T: 0, V: 1}, {T: 1000, V: 1}, {T: 2000, V: 1}, {T: 3000, V: 1}},
		Identity: rep, StageSignals: sigs}
	if err := e.judge.SessionEnded(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// reason returns the identity reason kind of the interview's latest verdict.
func (e *identityEnv) reason(t *testing.T, id int64, kind string) (risk.Reason, bool) {
	t.Helper()
	v, err := e.st.LatestVerdict(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var rs []risk.Reason
	if err := json.Unmarshal(v.Reasons, &rs); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == kind {
			return r, true
		}
	}
	return risk.Reason{}, false
}

// TestIdentityReuseAndReference: two interviews under different names with
// the same face (the astronaut) — the second's verdict has an
// identity_reuse reason naming the first; a third person (Obama) matches
// nobody; the same candidate's second interview (same e-mail) is not
// reuse; after a reviewer marks a pair as the same person, a rescore
// no longer names that interview. A reference photo of another person gives a mismatch, of
// the same person a match; no photo, no identity_reference. Templates and
// the evidence face are stored.
func TestIdentityReuseAndReference(t *testing.T) {
	e := newIdentityEnv(t)
	ctx := context.Background()
	a := e.interview(t, "Alice Example", "alice@candidate.test")
	e.session(t, a, "astronaut.png")
	if _, ok := e.reason(t, a.ID, verdict.KindIdentityReuse); ok {
		t.Error("the first interview has a reuse reason: there is nothing to compare with")
	}
	if _, ok := e.reason(t, a.ID, verdict.KindIdentityReference); ok {
		t.Error("an interview without a reference photo has an identity_reference reason")
	}
	b := e.interview(t, "Bea Other", "bea@candidate.test")
	e.session(t, b, "astronaut.png")
	r, ok := e.reason(t, b.ID, verdict.KindIdentityReuse)
	if !ok || r.Points < 20 || !strings.Contains(r.Text, fmt.Sprintf("interview %d ", a.ID)) {
		t.Fatalf("same face under another name: reason %+v (found %v)", r, ok)
	}
	t.Logf("reuse: %.1f points: %s", r.Points, r.Text)

	c := e.interview(t, "Carl Third", "carl@candidate.test")
	e.session(t, c, "obama.jpg")
	if r, ok := e.reason(t, c.ID, verdict.KindIdentityReuse); !ok || r.Points != 0 {
		t.Errorf("another person: reuse reason %+v (found %v), want one with no points", r, ok)
	}
	a2 := e.interview(t, "Alice Example", "Alice@Candidate.test")
	e.session(t, a2, "astronaut.png")
	if r, ok := e.reason(t, a2.ID, verdict.KindIdentityReuse); ok && strings.Contains(r.Text, fmt.Sprintf("interview %d ", a.ID)) {
		t.Errorf("the same candidate's second interview counted as reuse: %s", r.Text)
	}

	// Templates and evidence are stored.
	if ts, err := e.st.FaceTemplates(ctx, b.ID); err != nil || len(ts) != 1 || !ts[0].Main || len(ts[0].Descriptor) != faceid.Dims {
		t.Fatalf("templates of b: %v %+v", err, ts)
	}
	if ev, err := e.st.IdentityEvidence(ctx, b.ID); err != nil || len(ev) != 1 || ev[0].Kind != verdict.EvidenceFace {
		t.Fatalf("identity evidence of b: %v %+v", err, ev)
	}

	// A reviewer marks a and b as the same person: a rescore of b drops the reuse.
	if err := e.st.MarkSamePerson(ctx, a.ID, b.ID, nil, "re-application", t0); err != nil {
		t.Fatal(err)
	}
	// ... and reference photos: b gets Obama's (another person), c Obama's (the same).
	m, vcfg := faces(t)
	for _, x := range []struct {
		iv   *models.Interview
		file string
	}{{b, "obama.jpg"}, {c, "obama.jpg"}} {
		data, err := os.ReadFile(filepath.Join(visiontest.FacesDir, x.file))
		if err != nil {
			t.Fatal(err)
		}
		p, err := faceid.DecodePhoto(data)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.DescribePhoto(p, vcfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.SaveReferencePhoto(ctx, store.ReferencePhoto{InterviewID: x.iv.ID, JPEG: p.JPEG, Width: p.Image.Rect.Dx(), Height: p.Image.Rect.Dy(),
			Model: faceid.ModelName, Descriptor: s.D.Slice(), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, iv := range []*models.Interview{b, c} {
		if _, err := verdict.Rescore(ctx, e.st, iv.ID, risk.DefaultSettings(), verdict.RescoreOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Marks are per pair: a is no longer named, Alice's second interview (same face, not marked) still is.
	if r, ok := e.reason(t, b.ID, verdict.KindIdentityReuse); !ok || strings.Contains(r.Text, fmt.Sprintf("interview %d ", a.ID)) ||
		!strings.Contains(r.Text, fmt.Sprintf("interview %d ", a2.ID)) {
		t.Errorf("after marking a and b as the same person: %+v (found %v)", r, ok)
	}
	if r, ok := e.reason(t, b.ID, verdict.KindIdentityReference); !ok || r.Points < 20 || !strings.Contains(r.Text, "does not match") {
		t.Errorf("reference photo of another person: %+v (found %v)", r, ok)
	} else {
		t.Logf("mismatch: %.1f points: %s", r.Points, r.Text)
	}
	if r, ok := e.reason(t, c.ID, verdict.KindIdentityReference); !ok || r.Points != 0 || !strings.Contains(r.Text, "matches the reference photo") {
		t.Errorf("reference photo of the same person: %+v (found %v)", r, ok)
	} else {
		t.Logf("match: %s", r.Text)
	}
}

// TestIdentityChangeEvidence: a session whose face changes (the astronaut
// for 3 s, then Obama) is stored with an identity_change reason and, as
// evidence, the last face before and the first after the change, at their
// times, besides the session's face.
func TestIdentityChangeEvidence(t *testing.T) {
	e := newIdentityEnv(t)
	ctx := context.Background()
	iv := e.interview(t, "Dana Switch", "dana@candidate.test")
	e.session(t, iv, "astronaut.png", "astronaut.png", "astronaut.png", "obama.jpg", "obama.jpg", "obama.jpg")
	r, ok := e.reason(t, iv.ID, verdict.KindIdentityChange)
	if !ok || r.Points < 20 || !strings.Contains(r.Text, "at 0:03 a different person appeared") {
		t.Fatalf("identity_change reason %+v (found %v)", r, ok)
	}
	ev, err := e.st.IdentityEvidence(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]store.Evidence{}
	for _, x := range ev {
		kinds[x.Kind] = x
	}
	before, after := kinds[verdict.EvidenceChangeBefore], kinds[verdict.EvidenceChangeAfter]
	if len(ev) != 3 || before.ID == 0 || after.ID == 0 || kinds[verdict.EvidenceFace].ID == 0 ||
		after.At.Sub(before.At) != time.Second || !strings.HasPrefix(after.Reason, "identity change 1:") {
		t.Fatalf("identity evidence %+v", ev)
	}
	img, err := e.st.EvidenceByID(ctx, iv.ID, after.ID)
	if err != nil || len(img.JPEG) < 1000 || img.JPEG[0] != 0xFF || img.JPEG[1] != 0xD8 {
		t.Fatalf("evidence image: %v (%d bytes)", err, len(img.JPEG))
	}
	// A retried judgement stores no second copy.
	n := len(ev)
	e.n--
	e.session(t, iv, "astronaut.png", "astronaut.png", "astronaut.png", "obama.jpg", "obama.jpg", "obama.jpg")
	if ev, _ := e.st.IdentityEvidence(ctx, iv.ID); len(ev) != n {
		t.Errorf("after a retried judgement: %d images, want %d", len(ev), n)
	}
}
