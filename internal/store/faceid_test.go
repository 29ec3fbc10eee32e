package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestFaceTemplatesAndReuseCandidates(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	a := secInterview(t, st, "a@c.test")
	b := secInterview(t, st, "b@c.test")
	c := secInterview(t, st, "c@c.test")
	started := now.Add(-time.Hour)
	tpl := func(iv int64, ord int, model string, at time.Time) store.FaceTemplate {
		return store.FaceTemplate{InterviewID: iv, SessionStarted: started, Ordinal: ord, Model: model,
			Descriptor: []float32{0.25, -0.5, float32(ord)}, Samples: 10 + ord, Main: ord == 0, At: at}
	}
	ts := []store.FaceTemplate{tpl(a.ID, 0, "m1", now), tpl(a.ID, 1, "m1", now)}
	for range 2 { // a retried write stores each template once
		if err := st.SaveFaceTemplates(ctx, ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveFaceTemplates(ctx, []store.FaceTemplate{tpl(b.ID, 0, "m1", now.AddDate(0, 0, -10)), tpl(c.ID, 0, "m2", now)}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveFaceTemplates(ctx, []store.FaceTemplate{{InterviewID: a.ID, Model: "m1", SessionStarted: started}}); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("empty descriptor: %v", err)
	}
	got, err := st.FaceTemplates(ctx, a.ID)
	if err != nil || len(got) != 2 || !got[0].Main || got[1].Samples != 11 || got[1].Descriptor[2] != 1 || !got[0].SessionStarted.Equal(started) {
		t.Fatalf("templates: %v %+v", err, got)
	}
	// b's template is another candidate's in the window; c's is another model.
	cands, err := st.FaceReuseCandidates(ctx, "m1", a.ID, now.AddDate(0, 0, -30), 0)
	if err != nil || len(cands) != 1 || cands[0].InterviewID != b.ID || cands[0].CandidateEmail != "b@c.test" {
		t.Fatalf("candidates: %v %+v", err, cands)
	}
	if cands, _ := st.FaceReuseCandidates(ctx, "m1", a.ID, now.AddDate(0, 0, -5), 0); len(cands) != 0 {
		t.Fatalf("outside the window: %+v", cands)
	}
	// A reviewer marks a and b as the same person legitimately: b stops counting for a, and a for b.
	if err := st.MarkSamePerson(ctx, a.ID, b.ID, nil, "re-interview", now); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSamePerson(ctx, a.ID, b.ID, nil, "re-interview after a dropped call", now); err != nil {
		t.Fatal(err)
	}
	if cands, _ := st.FaceReuseCandidates(ctx, "m1", a.ID, time.Time{}, 0); len(cands) != 0 {
		t.Fatalf("marked pair still a candidate: %+v", cands)
	}
	if cands, _ := st.FaceReuseCandidates(ctx, "m1", b.ID, time.Time{}, 0); len(cands) != 0 {
		t.Fatalf("marked pair, other direction: %+v", cands)
	}
	marks, err := st.IdentityMarks(ctx, b.ID)
	if err != nil || len(marks) != 1 || marks[0].OtherInterviewID != a.ID || marks[0].Note != "re-interview after a dropped call" {
		t.Fatalf("marks: %v %+v", err, marks)
	}
	if err := st.MarkSamePerson(ctx, a.ID, a.ID, nil, "", now); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("self mark: %v", err)
	}
	if err := st.UnmarkSamePerson(ctx, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if cands, _ := st.FaceReuseCandidates(ctx, "m1", a.ID, time.Time{}, 0); len(cands) != 1 {
		t.Fatalf("after unmarking: %+v", cands)
	}
}

func TestReferencePhotos(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	iv := secInterview(t, st, "ref@c.test")
	admin := newUser(t, st, "admin-ref@example.test", models.RoleAdmin)
	if _, err := st.ReferencePhotoOf(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("no photo yet: %v", err)
	}
	p := store.ReferencePhoto{InterviewID: iv.ID, JPEG: jpegBytes, Width: 300, Height: 400, Model: "m1",
		Descriptor: []float32{0.5, 0.25}, UploadedBy: &admin.ID, CreatedAt: now}
	if err := st.SaveReferencePhoto(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Width, p.Descriptor = 600, []float32{0.125, 1}
	if err := st.SaveReferencePhoto(ctx, p); err != nil { // replaces
		t.Fatal(err)
	}
	got, err := st.ReferencePhotoOf(ctx, iv.ID)
	if err != nil || got.Width != 600 || got.Descriptor[1] != 1 || string(got.JPEG) != string(jpegBytes) || *got.UploadedBy != admin.ID || !got.CreatedAt.Equal(now) {
		t.Fatalf("photo: %v %+v", err, got)
	}
	if err := st.SaveReferencePhoto(ctx, store.ReferencePhoto{InterviewID: iv.ID, Model: "m1"}); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("empty photo: %v", err)
	}
	if err := st.DeleteReferencePhoto(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReferencePhotoOf(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

// faceFixture stores a template, a reference photo and a mark for iv.
func faceFixture(t *testing.T, st *store.Store, iv, other int64, created time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := st.SaveFaceTemplates(ctx, []store.FaceTemplate{{InterviewID: iv, SessionStarted: created, Model: "m1",
		Descriptor: []float32{1, 2}, Samples: 5, Main: true, At: created}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveReferencePhoto(ctx, store.ReferencePhoto{InterviewID: iv, JPEG: jpegBytes, Width: 64, Height: 64, Model: "m1",
		Descriptor: []float32{1, 2}, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSamePerson(ctx, iv, other, nil, "", created); err != nil {
		t.Fatal(err)
	}
}

// TestFaceDataRetention: templates and reference photos are purged after
// the retention period, exported (the photo as a file) and erased.
func TestFaceDataRetention(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	old := secInterview(t, st, "old-face@c.test")
	recent := secInterview(t, st, "recent-face@c.test")
	faceFixture(t, st, old.ID, recent.ID, now.AddDate(0, 0, -31))
	faceFixture(t, st, recent.ID, old.ID, now.AddDate(0, 0, -29))

	ex, err := st.ExportInterview(ctx, recent.ID)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range map[string]int{"face_descriptors": 1, "reference_photos": 1, "identity_marks": 1} {
		if len(ex.Tables[table]) != n {
			t.Errorf("export %s: %d rows, want %d", table, len(ex.Tables[table]), n)
		}
	}
	photo := false
	for _, b := range ex.Blobs {
		photo = photo || (b.Table == "reference_photos" && b.Column == "jpeg" && string(b.Data) == string(jpegBytes))
	}
	if !photo {
		t.Errorf("the reference photo is not an exported file: %+v", ex.Blobs)
	}

	r, err := st.PurgeBiometric(ctx, now.AddDate(0, 0, -30))
	if err != nil || r.FaceDescriptors != 1 || r.ReferencePhotos != 1 {
		t.Fatalf("purge: %v %+v", err, r)
	}
	if n := count(t, db, `SELECT count(*) FROM reference_photos WHERE interview_id = $1`, recent.ID); n != 1 {
		t.Fatalf("recent photo purged (%d left)", n)
	}

	deleted, err := st.EraseInterview(ctx, recent.ID, nil, now)
	// identity_marks: both directions (the other interview's row names the erased one).
	if err != nil || deleted["face_descriptors"] != 1 || deleted["reference_photos"] != 1 || deleted["identity_marks"] != 2 {
		t.Fatalf("erase: %v %v", err, deleted)
	}
	for _, table := range []string{"face_descriptors", "reference_photos", "identity_marks"} {
		if n := count(t, db, `SELECT count(*) FROM `+table+` WHERE interview_id = $1`, recent.ID); n != 0 {
			t.Errorf("%s: %d rows left after erasure", table, n)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM identity_marks WHERE other_interview_id = $1`, recent.ID); n != 0 {
		t.Errorf("identity_marks: %d rows still name the erased interview", n)
	}
}
