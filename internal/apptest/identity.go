package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // face stills in testdata
	"os"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// FaceCrop reads a still of testdata/faces (path relative to the test's
// package) and returns the square crop r of it as a JPEG, as an evidence
// face image.
func FaceCrop(t interface {
	Helper()
	Fatal(...any)
}, path string, r image.Rectangle) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, dst, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// IdentityFaces are the evidence images of SeedIdentitySession.
type IdentityFaces struct {
	Main, Before, After, Other []byte
}

// IdentitySeed is what SeedIdentitySession stored.
type IdentitySeed struct {
	Start                                  time.Time
	FaceID, BeforeID, AfterID, OtherFaceID int64
}

// SeedIdentitySession stores, through the real store, a finished session
// of iv with the three identity reasons in the format internal/verdict
// documents (reasons made by faceid's own signal functions where they take
// plain inputs): the person changed 0:40 into the session (evidence
// identity_change_before/after, "identity change 1: …"), the face matches
// interview other's (whose finished session gets an identity_face image),
// and it does not match the reference photo (reference only when the
// interview has one: no photo, no signal). Both sessions' face templates
// are stored with the descriptors the reuse reason was computed from. Then
// the verdict, as risk.Score makes it. For tests of what people see before the live
// identity path stores these itself.
func (e *Env) SeedIdentitySession(iv *models.Interview, other *models.Interview, faces IdentityFaces, reference bool) IdentitySeed {
	e.T.Helper()
	ctx := context.Background()
	start := e.Clock.Now().Add(-30 * time.Minute).Truncate(time.Second)
	end := start.Add(10 * time.Minute)
	seed := IdentitySeed{Start: start}
	// The other interview: a session ten days earlier with its face.
	oStart := start.AddDate(0, 0, -10)
	if err := e.Store.SaveSession(ctx, store.SessionResult{InterviewID: other.ID, Reason: "completed", StartedAt: oStart, EndedAt: oStart.Add(10 * time.Minute),
		FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")}, nil,
		[]models.Signal{{Kind: "face_presence", Value: 0.98, Score: 0.02, Confidence: 1, Reason: "a face was found in 98 % of frames"}}, models.StatusCompleted); err != nil {
		e.T.Fatalf("apptest: other session: %v", err)
	}
	var err error
	if seed.OtherFaceID, err = e.Store.AddEvidence(ctx, store.Evidence{InterviewID: other.ID, Kind: "identity_face", At: oStart.Add(time.Minute),
		Reason: "the clearest face of the person on camera (30 faces compared)", JPEG: faces.Other}); err != nil {
		e.T.Fatalf("apptest: %v", err)
	}

	var self, near, far faceid.Descriptor
	near[0], far[0] = 0.31, 0.78
	reuse, _ := faceid.ReuseSignal(self, []faceid.Candidate{{InterviewID: other.ID, At: oStart.Add(10 * time.Minute), D: near}})
	sigs := []models.Signal{
		{Kind: "face_presence", Value: 0.97, Score: 0.02, Confidence: 1, Reason: "a face was found in 97 % of 4800 analysed frames"},
		{Kind: faceid.KindChange, Value: 0.87, Score: 0.9, Confidence: 1, At: start.Add(40 * time.Second),
			Reason: "The person on camera changed during the interview: at 0:40 a different person appeared (the previous face was last seen at 0:39; distance 0.87, same-person limit 0.55). Compare the two images."},
		reuse,
	}
	if reference {
		sigs = append(sigs, faceid.ReferenceSignal(self, far))
	}
	if err := e.Store.SaveSession(ctx, store.SessionResult{InterviewID: iv.ID, Reason: "completed", StartedAt: start, EndedAt: end,
		FramesDecoded: 9000, FramesAnalysed: 4800, FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")}, nil,
		sigs, models.StatusFlagged); err != nil {
		e.T.Fatalf("apptest: session: %v", err)
	}
	for _, ev := range []struct {
		dst  *int64
		kind string
		at   time.Duration
		why  string
		jpeg []byte
	}{
		{&seed.FaceID, "identity_face", 10 * time.Second, "the clearest face of the person on camera (24 faces compared)", faces.Main},
		{&seed.BeforeID, "identity_change_before", 39 * time.Second, "identity change 1: the last face before the change at 0:40 (seen at 0:39)", faces.Before},
		{&seed.AfterID, "identity_change_after", 40 * time.Second, "identity change 1: the first face after the change at 0:40 (distance 0.87)", faces.After},
	} {
		if *ev.dst, err = e.Store.AddEvidence(ctx, store.Evidence{InterviewID: iv.ID, Kind: ev.kind, At: start.Add(ev.at), Reason: ev.why, JPEG: ev.jpeg}); err != nil {
			e.T.Fatalf("apptest: %v", err)
		}
	}
	// The sessions' templates, as the live path stores them: the
	// descriptors the reuse reason was computed from.
	if err := e.Store.SaveFaceTemplates(ctx, []store.FaceTemplate{
		{InterviewID: other.ID, SessionStarted: oStart, Model: faceid.ModelName, Descriptor: append([]float32{}, near[:]...), Samples: 30, Main: true, At: oStart.Add(10 * time.Minute)},
		{InterviewID: iv.ID, SessionStarted: start, Model: faceid.ModelName, Descriptor: append([]float32{}, self[:]...), Samples: 24, Main: true, At: end},
	}); err != nil {
		e.T.Fatalf("apptest: templates: %v", err)
	}
	v := risk.Score(sigs, risk.DefaultSettings())
	reasons, _ := json.Marshal(v.Reasons)
	if err := e.Store.SaveVerdict(ctx, &store.Verdict{InterviewID: iv.ID, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
		ScoringVersion: v.ScoringVersion, ReviewAt: v.ReviewAt, FailAt: v.FailAt, Coverage: v.Coverage, SignalCount: len(sigs),
		Trigger: store.TriggerSessionEnd, ComputedAt: end}); err != nil {
		e.T.Fatalf("apptest: verdict: %v", err)
	}
	return seed
}
