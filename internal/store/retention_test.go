package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

var jpegBytes = []byte{0xFF, 0xD8, 0xFF, 0xE0, 'f', 'a', 'k', 'e', 0xFF, 0xD9}

// secFixture fills one interview with a row in every kind of table, created at created.
func secFixture(t *testing.T, db pgx.Tx, iv int64, created time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO consents (interview_id, browser_id, decision, at, ip, notice) VALUES ($1, 'b', 'given', $2, '203.0.113.7', 'v1')`, []any{iv, created}},
		{`INSERT INTO attempts (interview_id, browser_id, ip, started_at, environment) VALUES ($1, 'b', '203.0.113.7', $2, '{"tz": "Europe/Lisbon"}')`, []any{iv, created}},
		{`INSERT INTO series (interview_id, kind, biometric, points, created_at) VALUES ($1, 'face_presence', true, '[[0, 1]]', $2)`, []any{iv, created}},
		{`INSERT INTO series (interview_id, kind, biometric, points, created_at) VALUES ($1, 'yaw', true, '[[0, 12.5]]', $2)`, []any{iv, created}},
		{`INSERT INTO series (interview_id, kind, biometric, points, created_at) VALUES ($1, 'rtt', false, '[[0, 41]]', $2)`, []any{iv, created}},
		{`INSERT INTO signals (interview_id, kind, value, score, confidence, reason) VALUES ($1, 'net_rtt_claimed', 41, 0, 0.7, 'fine')`, []any{iv}},
		{`INSERT INTO evidence (interview_id, kind, at, reason, jpeg, created_at) VALUES ($1, 'turn_head', $2, 'peak', $3, $2)`, []any{iv, created, jpegBytes}},
		{`INSERT INTO face_descriptors (interview_id, model, descriptor, created_at) VALUES ($1, 'dlib-128', '{0.1,0.2}', $2)`, []any{iv, created}},
		{`INSERT INTO session_checkpoints (interview_id, session_started, identity, at) VALUES ($1, $2, '{"identities": [{"template": [0.1, 0.2]}]}', $2)`, []any{iv, created}},
		{`INSERT INTO session_checkpoint_parts (interview_id, session_started, seq, data, created_at) VALUES ($1, $2, 0, '{"v": 1, "face": [{"t": 0, "v": 1}], "yaw": [{"t": 0, "v": 12.5}]}', $2)`, []any{iv, created}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
}

func count(t *testing.T, db pgx.Tx, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestPurgeBiometric(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	old := secInterview(t, st, "old@c.test")
	recent := secInterview(t, st, "recent@c.test")
	secFixture(t, db, old.ID, now.AddDate(0, 0, -31))
	secFixture(t, db, recent.ID, now.AddDate(0, 0, -29))

	r, err := st.PurgeBiometric(ctx, now.AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	if r.Series != 2 || r.Evidence != 1 || r.FaceDescriptors != 1 || r.Checkpoints != 1 || r.Total() != 5 {
		t.Fatalf("%+v, want the old interview's 2 biometric series, 1 image, 1 descriptor, 1 checkpoint", r)
	}
	for _, c := range []struct {
		what string
		sql  string
		iv   int64
		want int
	}{
		{"old biometric series", `SELECT count(*) FROM series WHERE interview_id = $1 AND biometric`, old.ID, 0},
		{"old non-biometric series", `SELECT count(*) FROM series WHERE interview_id = $1 AND NOT biometric`, old.ID, 1},
		{"old evidence", `SELECT count(*) FROM evidence WHERE interview_id = $1`, old.ID, 0},
		{"old descriptors", `SELECT count(*) FROM face_descriptors WHERE interview_id = $1`, old.ID, 0},
		{"old consent", `SELECT count(*) FROM consents WHERE interview_id = $1`, old.ID, 1},
		{"old signals", `SELECT count(*) FROM signals WHERE interview_id = $1`, old.ID, 1},
		{"old attempts", `SELECT count(*) FROM attempts WHERE interview_id = $1`, old.ID, 1},
		{"recent biometric series", `SELECT count(*) FROM series WHERE interview_id = $1 AND biometric`, recent.ID, 2},
		{"recent evidence", `SELECT count(*) FROM evidence WHERE interview_id = $1`, recent.ID, 1},
		{"recent descriptors", `SELECT count(*) FROM face_descriptors WHERE interview_id = $1`, recent.ID, 1},
		{"old checkpoint", `SELECT count(*) FROM session_checkpoints WHERE interview_id = $1`, old.ID, 0},
		{"recent checkpoint", `SELECT count(*) FROM session_checkpoints WHERE interview_id = $1`, recent.ID, 1},
		{"old checkpoint's measurements", `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, old.ID, 0},
		{"recent checkpoint's measurements", `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, recent.ID, 1},
	} {
		if n := count(t, db, c.sql, c.iv); n != c.want {
			t.Errorf("%s: %d rows, want %d", c.what, n, c.want)
		}
	}
	if r, _ := st.PurgeBiometric(ctx, now.AddDate(0, 0, -30)); r.Total() != 0 {
		t.Fatalf("a second purge finds nothing: %+v", r)
	}
}

func TestExportInterview(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	iv := secInterview(t, st, "exp@c.test")
	other := secInterview(t, st, "other@c.test")
	secFixture(t, db, iv.ID, now)
	secFixture(t, db, other.ID, now)
	ex, err := st.ExportInterview(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ivJSON map[string]any
	if err := json.Unmarshal(ex.Interview, &ivJSON); err != nil {
		t.Fatal(err)
	}
	if ivJSON["candidate_email"] != "exp@c.test" || ivJSON["token_hash"] != nil {
		t.Fatalf("interview row: %v (the token hash must not be exported)", ivJSON)
	}
	for table, n := range map[string]int{"consents": 1, "attempts": 1, "series": 3, "signals": 1, "evidence": 1, "face_descriptors": 1,
		"session_checkpoints": 1, "session_checkpoint_parts": 1} {
		if len(ex.Tables[table]) != n {
			t.Errorf("%s: %d rows, want %d", table, len(ex.Tables[table]), n)
		}
	}
	if len(ex.Blobs) != 1 || string(ex.Blobs[0].Data) != string(jpegBytes) || ex.Blobs[0].Table != "evidence" || ex.Blobs[0].Column != "jpeg" {
		t.Fatalf("blobs: %+v", ex.Blobs)
	}
	var ev map[string]any
	_ = json.Unmarshal(ex.Tables["evidence"][0], &ev)
	if ev["jpeg"] != store.BlobName(ex.Blobs[0]) || ev["jpeg"] != fmt.Sprintf("files/evidence/%v_jpeg.jpg", ev["id"]) {
		t.Fatalf("evidence row must point at its image: %v", ev)
	}
	if _, err := st.ExportInterview(ctx, 987654321); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing interview: %v", err)
	}
}

func TestEraseInterview(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	admin := newUser(t, st, "admin-erase@example.test", models.RoleAdmin)
	iv := secInterview(t, st, "erase@c.test")
	other := secInterview(t, st, "keep@c.test")
	secFixture(t, db, iv.ID, now)
	secFixture(t, db, other.ID, now)
	if err := st.Audit(ctx, store.AuditEntry{Actor: "system", Action: "interview.create", Target: "interview:1"}); err != nil {
		t.Fatal(err)
	}
	auditBefore := count(t, db, `SELECT count(*) FROM audit_log`)
	// A table added later that references another per-interview table without
	// ON DELETE CASCADE, sorted after it: erasure must order the deletions.
	if _, err := db.Exec(ctx, `CREATE TABLE zz_signal_notes (id bigserial PRIMARY KEY, interview_id bigint NOT NULL,
		signal_id bigint NOT NULL REFERENCES signals (id))`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO zz_signal_notes (interview_id, signal_id) SELECT interview_id, id FROM signals WHERE interview_id = $1`, iv.ID); err != nil {
		t.Fatal(err)
	}

	deleted, err := st.EraseInterview(ctx, iv.ID, &admin.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if deleted["series"] != 3 || deleted["evidence"] != 1 || deleted["attempts"] != 1 || deleted["signals"] != 1 || deleted["zz_signal_notes"] != 1 {
		t.Fatalf("deleted: %v", deleted)
	}
	if _, ok := deleted["consents"]; ok {
		t.Fatal("consents must be kept")
	}
	for _, table := range []string{"attempts", "series", "signals", "evidence", "face_descriptors", "session_checkpoints", "session_checkpoint_parts", "zz_signal_notes"} {
		if n := count(t, db, `SELECT count(*) FROM `+table+` WHERE interview_id = $1`, iv.ID); n != 0 {
			t.Errorf("%s still has %d rows", table, n)
		}
		if n := count(t, db, `SELECT count(*) FROM `+table+` WHERE interview_id = $1`, other.ID); n == 0 && table != "zz_signal_notes" {
			t.Errorf("%s: the other interview's rows were deleted too", table)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM consents WHERE interview_id = $1`, iv.ID); n != 1 {
		t.Fatalf("consent record: %d rows, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log`); n != auditBefore {
		t.Fatalf("audit log changed: %d → %d", auditBefore, n)
	}
	got, _ := st.Interview(ctx, iv.ID)
	if got.CandidateName != store.ErasedName || got.CandidateEmail != "" || got.Notes != "" || got.ClaimedCity != "" ||
		got.RevokedAt == nil || got.Status != models.StatusRevoked || got.ExpiresAt.After(now) {
		t.Fatalf("scrubbed interview: %+v", got)
	}
	if o, _ := st.Interview(ctx, other.ID); o.CandidateEmail != "keep@c.test" {
		t.Fatal("the other interview was scrubbed")
	}
	e, err := st.ErasureOf(ctx, iv.ID)
	if err != nil || *e.ErasedBy != admin.ID || e.Deleted["series"] != 3 || !e.ErasedAt.Equal(now) {
		t.Fatalf("erasure record: %v %+v", err, e)
	}
	if _, err := st.ErasureOf(ctx, other.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("no erasure: %v", err)
	}
	// Erasing twice is harmless.
	if d, err := st.EraseInterview(ctx, iv.ID, nil, now.Add(time.Hour)); err != nil || d["series"] != 0 {
		t.Fatalf("erase twice: %v %v", d, err)
	}
	if err := st.SetInterviewStatus(ctx, other.ID, models.StatusLive, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EraseInterview(ctx, other.ID, nil, now); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("a live interview: %v, want ErrConflict", err)
	}
	if _, err := st.EraseInterview(ctx, 987654321, nil, now); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing interview: %v", err)
	}
}
