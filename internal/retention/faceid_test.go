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
	if err != nil || deleted["reference_photos"] != 1 || deleted["face_descriptors"] != 2 || deleted["identity_marks"] != 1 {
		t.Fatalf("erase: %v %v", deleted, err)
	}
	if ts, _ := st.FaceTemplates(ctx, recent.ID); len(ts) != 0 {
		t.Fatalf("templates left: %d", len(ts))
	}
}
