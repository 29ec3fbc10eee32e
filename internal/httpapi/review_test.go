package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// seedSession stores a finished session through the real store, as the live room would.
func seedSession(t *testing.T, env *apptest.Env, name string, flagged bool, failScore float64) *models.Interview {
	t.Helper()
	ctx := context.Background()
	rec := env.CreateUser(models.RoleRecruiter)
	iv, _ := env.CreateInterview(name, env.Clock.Now().Add(-time.Hour), rec.ID)
	start := env.Clock.Now().Add(-30 * time.Minute)
	end := start.Add(20 * time.Minute)
	status := models.StatusCompleted
	if flagged {
		status = models.StatusFlagged
	}
	pts := func(n int, f func(i int) float64) json.RawMessage {
		var b strings.Builder
		b.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"t":%d,"v":%g}`, i*1000, f(i))
		}
		b.WriteString("]")
		return json.RawMessage(b.String())
	}
	sigs := []models.Signal{
		{Kind: "face_presence", Value: 0.97, Score: 0.02, Confidence: 1, Reason: "a face was found in 97 % of 9000 analysed frames"},
		{Kind: "challenge_turn_head", Value: 2, Score: failScore, Confidence: 0.8, Reason: "turn_head failed: no response"},
	}
	err := env.Store.SaveSession(ctx, store.SessionResult{InterviewID: iv.ID, Reason: "completed", StartedAt: start, EndedAt: end,
		FramesDecoded: 18000, FramesAnalysed: 9000, FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")},
		[]store.Series{
			{Kind: "face_presence", Biometric: true, Points: pts(1200, func(i int) float64 { return float64(1 - i%50/49) })},
			{Kind: "yaw", Biometric: true, Points: pts(1200, func(i int) float64 { return float64(i%40) - 20 })},
			{Kind: "rtt", Points: pts(600, func(i int) float64 { return 40 + float64(i%7) })},
		},
		sigs, status)
	if err != nil {
		t.Fatal(err)
	}
	v := risk.Score(sigs, risk.Settings{})
	reasons, _ := json.Marshal(v.Reasons)
	if err := env.Store.SaveVerdict(ctx, &store.Verdict{InterviewID: iv.ID, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
		ScoringVersion: v.ScoringVersion, ReviewAt: v.ReviewAt, FailAt: v.FailAt, Coverage: v.Coverage, SignalCount: len(sigs),
		Trigger: store.TriggerSessionEnd, ComputedAt: end}); err != nil {
		t.Fatal(err)
	}
	err = env.Store.SaveChallenge(ctx, store.ChallengeRecord{InterviewID: iv.ID, ChallengeID: fmt.Sprintf("ch-%d", iv.ID),
		Kind: "turn_head", Params: json.RawMessage(`{"dir":"left"}`), Attempt: 1, IssuedAt: start.Add(5 * time.Minute),
		Deadline: start.Add(5*time.Minute + 6*time.Second), Outcome: "failed", Reason: "no response", Peak: 2, Unit: "deg", Drift: 0.01},
		&store.Evidence{Kind: "challenge_turn_head", At: start.Add(5 * time.Minute), Reason: "peak", JPEG: tinyJPEG(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Store.StartAttempt(ctx, store.Attempt{InterviewID: iv.ID, BrowserID: "b", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 test", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func TestReviewQueueAndDecision(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	calm := seedSession(t, env, "Calm Candidate", false, 0)
	risky := seedSession(t, env, "Risky Candidate", true, 1)
	reviewer := env.CreateUser(models.RoleReviewer)
	c := env.NewClient()
	c.Login(reviewer)

	q := c.Get("/review")
	if q.Status != http.StatusOK {
		t.Fatalf("queue: %d", q.Status)
	}
	if i, j := strings.Index(q.Body, "Risky Candidate"), strings.Index(q.Body, "Calm Candidate"); i < 0 || j < 0 || i > j {
		t.Fatalf("the flagged session must come first (positions %d, %d)", i, j)
	}
	if f := c.Get("/review?decision=review"); strings.Contains(f.Body, "Calm Candidate") || !strings.Contains(f.Body, "Risky Candidate") {
		t.Fatal("filter by verdict")
	}
	page := c.Get(fmt.Sprintf("/review/%d", risky.ID))
	for _, want := range []string{"turn_head failed: no response", `<svg class="timeline"`, "203.0.113.7", `/evidence/`, `id="decide"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	r := c.Post(fmt.Sprintf("/review/%d/decision", risky.ID), url.Values{"decision": {"reject"}, "notes": {"face swap seam visible"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("decision: %d", r.Status)
	}
	if r := c.Post(fmt.Sprintf("/review/%d/decision", risky.ID), url.Values{"decision": {"delete everything"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("invalid decision: %d", r.Status)
	}
	if done := c.Get("/review?reviewed=open"); strings.Contains(done.Body, "Risky Candidate") || !strings.Contains(done.Body, "Calm Candidate") {
		t.Fatal("the decided session must leave the open queue")
	}
	// The recruiter who created the interview sees the outcome; a recruiter
	// cannot open the console.
	owner, err := env.Store.UserByID(context.Background(), risky.CreatedBy)
	if err != nil {
		t.Fatal(err)
	}
	rec := env.NewClient()
	rec.Login(owner)
	ivPage := rec.Get(fmt.Sprintf("/interviews/%d", risky.ID))
	if !strings.Contains(ivPage.Body, "face swap seam visible") || !strings.Contains(ivPage.Body, "s-reject") {
		t.Error("the recruiter's interview page does not show the review decision")
	}
	if r := rec.Get(fmt.Sprintf("/review/%d", risky.ID)); r.Status != http.StatusForbidden {
		t.Errorf("recruiter on the review page: %d", r.Status)
	}
	audit, _ := env.Store.AuditLog(context.Background(), fmt.Sprintf("interview:%d", risky.ID), 20)
	actions := map[string]bool{}
	for _, a := range audit {
		actions[a.Action] = true
	}
	if !actions["session.view"] || !actions["review.reject"] {
		t.Errorf("audit rows missing: %v", actions)
	}
	_ = calm
}

func tinyJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{uint8(150 + x), uint8(110 + y), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
