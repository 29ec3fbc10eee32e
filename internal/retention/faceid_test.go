package retention_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/retention"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// TestFaceIdentityData: face templates and reference photos (internal/
// faceid) are purged with the other biometric data and audited with their
// counts; a candidate's export carries the reference photo as a file and
// the templates and marks as tables; erasure deletes them.
func TestFaceIdentityData(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	old := interview(t, st, "old-face@c.test", now.AddDate(0, 0, -31))
	recent := interview(t, st, "recent-face@c.test", now.AddDate(0, 0, -1))
	for _, iv := range []int64{old.ID, recent.ID} {
		created := old.ScheduledAt
		if iv == recent.ID {
			created = recent.ScheduledAt
		}
		if err := st.SaveFaceTemplates(ctx, []store.FaceTemplate{{InterviewID: iv, SessionStarted: created, Model: "m1",
			Descriptor: []float32{0.5, 0.5}, Samples: 12, Main: true, At: created}}); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveReferencePhoto(ctx, store.ReferencePhoto{InterviewID: iv, JPEG: jpeg, Width: 80, Height: 100,
			Model: "m1", Descriptor: []float32{0.5, 0.5}, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkSamePerson(ctx, recent.ID, old.ID, nil, "re-interview", now); err != nil {
		t.Fatal(err)
	}

	p := &retention.Purger{Store: st, Now: func() time.Time { return now }}
	r, err := p.PurgeOnce(ctx)
	// old: the descriptor interview() stores and the template; its photo.
	if err != nil || r.FaceDescriptors != 2 || r.ReferencePhotos != 1 {
		t.Fatalf("purge: %+v %v", r, err)
	}
	entries, _ := st.AuditLog(ctx, "biometric", 10)
	if len(entries) != 1 || entries[0].Detail["reference_photos"] != float64(1) {
		t.Fatalf("audit: %+v", entries)
	}
	if _, err := st.ReferencePhotoOf(ctx, recent.ID); err != nil {
		t.Fatalf("the recent photo must stay: %v", err)
	}

	var buf bytes.Buffer
	if err := retention.Export(ctx, st, recent.ID, retention.Actor{Email: "admin@example.test"}, now, &buf); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	var photo bool
	for name, b := range files {
		photo = photo || (strings.HasPrefix(name, "files/reference_photos/") && bytes.Equal(b, jpeg))
	}
	if !photo || files["tables/reference_photos.json"] == nil || files["tables/face_descriptors.json"] == nil || files["tables/identity_marks.json"] == nil {
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("export lacks the face data: %v", names)
	}

	deleted, err := retention.Erase(ctx, st, recent.ID, retention.Actor{Email: "admin@example.test"}, now)
	// identity_marks: both directions of the mark (the other interview's row names this one).
	if err != nil || deleted["reference_photos"] != 1 || deleted["face_descriptors"] != 2 || deleted["identity_marks"] != 2 {
		t.Fatalf("erase: %v %v", deleted, err)
	}
	if ts, _ := st.FaceTemplates(ctx, recent.ID); len(ts) != 0 {
		t.Fatalf("templates left: %d", len(ts))
	}
}

// TestIdentityEvidenceAndMarks: the identity reasons' face images (evidence
// without a challenge) are purged with the other evidence, exported as
// files and erased; a "same person" mark past the period goes once one side
// has lost its templates, and stays while both still have them; erasing
// one interview removes both directions of its marks.
func TestIdentityEvidenceAndMarks(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	old := interview(t, st, "old-id@c.test", now.AddDate(0, 0, -40))
	mid := interview(t, st, "mid-id@c.test", now.AddDate(0, 0, -35))
	recent := interview(t, st, "recent-id@c.test", now.AddDate(0, 0, -1))
	keep := interview(t, st, "keep-id@c.test", now.AddDate(0, 0, -2))
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, iv := range []*models.Interview{old, recent} {
		if _, err := st.AddEvidence(ctx, store.Evidence{InterviewID: iv.ID, Kind: "identity_face", At: iv.ScheduledAt,
			Reason: "the clearest face", JPEG: jpeg}); err != nil {
			t.Fatal(err)
		}
	}
	for _, iv := range []*models.Interview{old, recent} {
		exec(`UPDATE evidence SET created_at = $2 WHERE interview_id = $1`, iv.ID, iv.ScheduledAt)
	}
	// Marks made 32 days ago: old–mid (old's template will be purged) and
	// recent–keep (both keep their templates).
	for _, p := range [][2]int64{{old.ID, mid.ID}, {recent.ID, keep.ID}} {
		if err := st.MarkSamePerson(ctx, p[0], p[1], nil, "re-interview", now.AddDate(0, 0, -32)); err != nil {
			t.Fatal(err)
		}
	}
	p := &retention.Purger{Store: st, Now: func() time.Time { return now }}
	r, err := p.PurgeOnce(ctx)
	if err != nil || r.Evidence != 1 || r.IdentityMarks != 2 {
		t.Fatalf("purge: %+v %v", r, err)
	}
	if ms, _ := st.IdentityMarks(ctx, mid.ID); len(ms) != 0 {
		t.Fatalf("the old–mid mark stayed: %+v", ms)
	}
	if ms, _ := st.IdentityMarks(ctx, keep.ID); len(ms) != 1 {
		t.Fatalf("the recent–keep mark must stay while both have templates: %+v", ms)
	}
	if evs, _ := st.EvidenceOfKind(ctx, old.ID, "identity_"); len(evs) != 0 {
		t.Fatalf("old identity evidence left: %d", len(evs))
	}

	var buf bytes.Buffer
	if err := retention.Export(ctx, st, recent.ID, retention.Actor{Email: "admin@example.test"}, now, &buf); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	var face bool
	for name, b := range files {
		face = face || (strings.HasPrefix(name, "files/evidence/") && bytes.Equal(b, jpeg))
	}
	if !face || !strings.Contains(string(files["tables/evidence.json"]), "identity_face") || !strings.Contains(string(files["tables/identity_marks.json"]), "re-interview") {
		t.Fatalf("export lacks the identity evidence or mark: %s / %s", files["tables/evidence.json"], files["tables/identity_marks.json"])
	}
	deleted, err := retention.Erase(ctx, st, recent.ID, retention.Actor{Email: "admin@example.test"}, now)
	if err != nil || deleted["evidence"] != 1 || deleted["identity_marks"] != 2 {
		t.Fatalf("erase: %v %v", deleted, err)
	}
	if ms, _ := st.IdentityMarks(ctx, keep.ID); len(ms) != 0 {
		t.Fatalf("the other interview still names the erased one: %+v", ms)
	}
}
