package retention_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/jobs/jobstest"
	"github.com/livecheck/livecheck/internal/retention"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

var (
	now  = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	jpeg = []byte{0xFF, 0xD8, 0xFF, 0xDB, 1, 2, 3, 0xFF, 0xD9}
)

// interview creates an interview with one row of every kind, created at created.
func interview(t *testing.T, st *store.Store, email string, created time.Time) *models.Interview {
	t.Helper()
	ctx := context.Background()
	iv := &models.Interview{CandidateName: "Cand", CandidateEmail: email, ClaimedCity: "Porto", ClaimedCountry: "PT", Notes: "n",
		ScheduledAt: created, TokenHash: []byte("tok-" + email), ExpiresAt: created.Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	if err := st.AddConsent(ctx, store.Consent{InterviewID: iv.ID, BrowserID: "b", Decision: "given", At: created, IP: "203.0.113.7", Notice: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveFaceDescriptor(ctx, iv.ID, "dlib-128", []float32{0.5, 0.25}, created); err != nil {
		t.Fatal(err)
	}
	return iv
}

func TestPurgeOnce(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	old := interview(t, st, "old@c.test", now.AddDate(0, 0, -31))
	recent := interview(t, st, "recent@c.test", now.AddDate(0, 0, -29))
	for _, iv := range []*models.Interview{old, recent} {
		exec(`INSERT INTO series (interview_id, kind, biometric, points, created_at) VALUES ($1, 'face_presence', true, '[]', $2), ($1, 'rtt', false, '[]', $2)`,
			iv.ID, iv.ScheduledAt)
		exec(`INSERT INTO evidence (interview_id, kind, at, jpeg, created_at) VALUES ($1, 'blink', $2, $3, $2)`, iv.ID, iv.ScheduledAt, jpeg)
	}
	p := &retention.Purger{Store: st, Now: func() time.Time { return now }} // default 30 days
	if !p.Cutoff(now).Equal(now.AddDate(0, 0, -30)) {
		t.Fatalf("default cutoff %v", p.Cutoff(now))
	}
	r, err := p.PurgeOnce(ctx)
	if err != nil || r.Series != 1 || r.Evidence != 1 || r.FaceDescriptors != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	entries, _ := st.AuditLog(ctx, "biometric", 10)
	if len(entries) != 1 || entries[0].Action != retention.ActionPurge || entries[0].Actor != "system" || entries[0].Detail["evidence"] != float64(1) {
		t.Fatalf("audit: %+v", entries)
	}
	var left int
	_ = tx.QueryRow(ctx, `SELECT count(*) FROM series WHERE interview_id = $1`, old.ID).Scan(&left)
	if left != 1 {
		t.Fatalf("the non-biometric series stays: %d", left)
	}
	_ = tx.QueryRow(ctx, `SELECT count(*) FROM evidence WHERE interview_id = $1`, recent.ID).Scan(&left)
	if left != 1 {
		t.Fatal("recent evidence must stay")
	}
	if cs, _ := st.Consents(ctx, old.ID); len(cs) != 1 {
		t.Fatal("the consent record stays")
	}
	if r, _ := p.PurgeOnce(ctx); r.Total() != 0 {
		t.Fatal("nothing left to purge")
	}
	if entries, _ := st.AuditLog(ctx, "biometric", 10); len(entries) != 1 {
		t.Fatal("an empty purge writes no audit entry")
	}
	// A shorter period catches the recent interview too.
	p.Days = 7
	if r, _ := p.PurgeOnce(ctx); r.Series != 1 || r.Evidence != 1 {
		t.Fatalf("7 days: %+v", r)
	}
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestExportAndErase(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	admin := &models.User{Email: "admin@example.test", Role: models.RoleAdmin, PasswordHash: "x"}
	if err := st.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	actor := retention.Actor{ID: &admin.ID, Email: admin.Email, IP: "192.0.2.1"}
	iv := interview(t, st, "ex@c.test", now)
	other := interview(t, st, "other@c.test", now)
	var evID int64
	if err := tx.QueryRow(ctx, `INSERT INTO evidence (interview_id, kind, at, reason, jpeg) VALUES ($1, 'turn_head', $2, 'peak', $3) RETURNING id`,
		iv.ID, now, jpeg).Scan(&evID); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveSession(ctx, store.SessionResult{InterviewID: iv.ID, Reason: "ended", StartedAt: now, EndedAt: now.Add(time.Minute),
		FaceAbsent: json.RawMessage("[]"), CameraOff: json.RawMessage("[]")},
		[]store.Series{{Kind: "face_presence", Biometric: true, Points: json.RawMessage("[[0,1]]")}},
		[]models.Signal{{Kind: "device_virtual_camera", Score: 0.85, Confidence: 0.8, Reason: "OBS"}}, models.StatusCompleted); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := retention.Export(ctx, st, iv.ID, actor, now, &buf); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	img := fmt.Sprintf("files/evidence/%d_jpeg.jpg", evID)
	for _, want := range []string{"manifest.json", "interview.json", "tables/consents.json", "tables/evidence.json", "tables/series.json",
		"tables/signals.json", "tables/session_results.json", "tables/face_descriptors.json", img} {
		if _, ok := files[want]; !ok {
			t.Errorf("export lacks %s (has %v)", want, keys(files))
		}
	}
	if !bytes.Equal(files[img], jpeg) {
		t.Fatal("the evidence image must be exported byte for byte")
	}
	var m retention.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.InterviewID != iv.ID || m.ExportedBy != admin.Email ||
		m.Format != retention.ExportFormat || len(m.Files) != len(files)-1 {
		t.Fatalf("manifest: %v %+v", err, m)
	}
	var ivJSON map[string]any
	_ = json.Unmarshal(files["interview.json"], &ivJSON)
	if ivJSON["candidate_email"] != "ex@c.test" || ivJSON["token_hash"] != nil {
		t.Fatalf("interview.json: %v", ivJSON)
	}
	var evRows []map[string]any
	_ = json.Unmarshal(files["tables/evidence.json"], &evRows)
	if len(evRows) != 1 || evRows[0]["jpeg"] != img || evRows[0]["reason"] != "peak" {
		t.Fatalf("evidence rows: %v", evRows)
	}
	if strings.Contains(string(files["tables/signals.json"]), "other@c.test") {
		t.Fatal("another candidate's data leaked into the export")
	}

	deleted, err := retention.Erase(ctx, st, iv.ID, actor, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if deleted["evidence"] != 1 || deleted["series"] != 1 || deleted["signals"] != 1 || deleted["session_results"] != 1 || deleted["face_descriptors"] != 1 {
		t.Fatalf("deleted: %v", deleted)
	}
	entries, _ := st.AuditLog(ctx, fmt.Sprintf("interview:%d", iv.ID), 10)
	if len(entries) != 2 || entries[0].Action != retention.ActionErase || entries[1].Action != retention.ActionExport ||
		*entries[0].ActorID != admin.ID || entries[0].IP != "192.0.2.1" {
		t.Fatalf("audit: %+v", entries)
	}
	if d := entries[0].Detail["deleted"].(map[string]any); d["evidence"] != float64(1) {
		t.Fatalf("erase audit detail: %v", entries[0].Detail)
	}

	// After erasure an export holds only the consent, the erasure record and the scrubbed interview.
	buf.Reset()
	if err := retention.Export(ctx, st, iv.ID, actor, now.Add(2*time.Hour), &buf); err != nil {
		t.Fatal(err)
	}
	files = readZip(t, buf.Bytes())
	got := keys(files)
	want := []string{"interview.json", "manifest.json", "tables/consents.json", "tables/data_erasures.json"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after erasure the export has %v, want %v", got, want)
	}
	if strings.Contains(string(files["interview.json"]), "ex@c.test") {
		t.Fatal("the erased interview still names the candidate")
	}
	if o, _ := st.Interview(ctx, other.ID); o.CandidateEmail != "other@c.test" {
		t.Fatal("another interview was touched")
	}

	// The trail of all this cannot be rewritten.
	for _, sql := range []string{`UPDATE audit_log SET action = 'nothing'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		sp, err := tx.Begin(ctx) // a savepoint keeps the test transaction usable
		if err != nil {
			t.Fatal(err)
		}
		_, err = sp.Exec(ctx, sql)
		_ = sp.Rollback(ctx)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v, want the append-only refusal", sql, err)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The purge runs as a periodic River job: with two nodes (two River clients
// on one database) it runs once, on the elected leader's schedule, and does
// its work.
func TestPurgeJobRunsOnceAcrossNodes(t *testing.T) {
	url := pgtest.SchemaURL(t)
	ctx := context.Background()
	var st *store.Store
	var pools []*pgxpool.Pool
	for range 2 {
		pool, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		pools, st = append(pools, pool), store.New(pool)
	}
	old := interview(t, st, "bg@c.test", time.Now().AddDate(0, 0, -40))
	var q *jobs.Queue
	for i, id := range []string{"node-a", "node-b"} {
		workers := river.NewWorkers()
		river.AddWorker(workers, &retention.PurgeWorker{P: &retention.Purger{Store: store.New(pools[i]), Days: 30}})
		q = jobstest.Start(t, pools[i], id, workers, retention.PeriodicPurge(time.Hour))
	}
	jobstest.Wait(t, q, retention.PurgeArgs{}.Kind(), "one purge job completed", func(js []*rivertype.JobRow) bool {
		if len(js) > 1 {
			t.Fatalf("%d purge jobs enqueued by two nodes, want one", len(js))
		}
		return len(js) == 1 && js[0].State == rivertype.JobStateCompleted
	})
	if ds, _ := st.FaceDescriptors(ctx, "dlib-128", time.Time{}, 0, 0); len(ds) != 0 {
		t.Fatalf("expired descriptors left: %d", len(ds))
	}
	if cs, _ := st.Consents(ctx, old.ID); len(cs) != 1 {
		t.Fatal("the consent record stays")
	}
	if entries, _ := st.AuditLog(ctx, "biometric", 10); len(entries) != 1 || entries[0].Action != retention.ActionPurge {
		t.Fatalf("one purge, one audit entry: %+v", entries)
	}
}
