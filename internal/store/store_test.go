package store_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/migrations"
	"github.com/livecheck/livecheck/models"
)

func newUser(t *testing.T, st *store.Store, email string, role models.Role) *models.User {
	t.Helper()
	u := &models.User{Email: email, Name: "N", Role: role, PasswordHash: "x"}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsers(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	u := newUser(t, st, "Alice@Example.test", models.RoleRecruiter)
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatal("ID and CreatedAt must be set")
	}
	got, err := st.UserByEmail(ctx, "alice@example.TEST")
	if err != nil || got.ID != u.ID || got.Role != models.RoleRecruiter {
		t.Fatalf("case-insensitive lookup: %v %+v", err, got)
	}
	// Statements expected to fail run in a savepoint so the test transaction stays usable.
	err = st.InTx(ctx, func(tx *store.Store) error {
		return tx.CreateUser(ctx, &models.User{Email: "ALICE@example.test", Role: models.RoleAdmin, PasswordHash: "x"})
	})
	if !errors.Is(err, models.ErrConflict) {
		t.Fatalf("duplicate e-mail: %v, want ErrConflict", err)
	}
	if _, err := st.UserByID(ctx, 999999); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing user: %v, want ErrNotFound", err)
	}
	if err := st.UpdateUserAccess(ctx, u.ID, models.RoleAdmin, true); err != nil {
		t.Fatal(err)
	}
	got, _ = st.UserByID(ctx, u.ID)
	if got.Role != models.RoleAdmin || !got.Disabled {
		t.Fatalf("update: %+v", got)
	}
	if err := st.UpdateUserAccess(ctx, 999999, models.RoleAdmin, false); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func TestUserRoleConstraint(t *testing.T) {
	st, _ := pgtest.Tx(t)
	err := st.CreateUser(context.Background(), &models.User{Email: "x@y.test", Role: "superuser", PasswordHash: "x"})
	if err == nil {
		t.Fatal("an unknown role must be refused by the database")
	}
}

func TestSessions(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	u := newUser(t, st, "s@example.test", models.RoleReviewer)
	now := time.Now()
	a := &store.AuthSession{TokenHash: []byte("hash-1"), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateAuthSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := st.SessionUser(ctx, []byte("hash-1"), now.Add(59*time.Minute)); err != nil || got.ID != u.ID {
		t.Fatalf("live session: %v", err)
	}
	if _, err := st.SessionUser(ctx, []byte("hash-1"), now.Add(61*time.Minute)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if n, err := st.DeleteExpiredSessions(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	_ = st.CreateAuthSession(ctx, &store.AuthSession{TokenHash: []byte("hash-2"), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	_ = st.UpdateUserAccess(ctx, u.ID, u.Role, true)
	if _, err := st.SessionUser(ctx, []byte("hash-2"), now); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("disabled user's session: %v", err)
	}
}

func TestInterviews(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	u := newUser(t, st, "r@example.test", models.RoleRecruiter)
	at := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	mk := func(name, city string, hash string) *models.Interview {
		iv := &models.Interview{CandidateName: name, CandidateEmail: strings.ToLower(name) + "@c.test", ClaimedCity: city,
			ScheduledAt: at, TokenHash: []byte(hash), ExpiresAt: at.Add(72 * time.Hour), CreatedBy: u.ID}
		if err := st.CreateInterview(ctx, iv); err != nil {
			t.Fatal(err)
		}
		return iv
	}
	a := mk("Alpha", "Oslo", "h1")
	b := mk("Beta_50%", "Lima", "h2")
	dup := &models.Interview{CandidateName: "X", CandidateEmail: "x@c.test", ScheduledAt: at, TokenHash: []byte("h1"), ExpiresAt: at}
	if err := st.InTx(ctx, func(tx *store.Store) error { return tx.CreateInterview(ctx, dup) }); !errors.Is(err, models.ErrConflict) {
		t.Fatal("duplicate token hash must conflict")
	}
	got, err := st.InterviewByTokenHash(ctx, []byte("h2"))
	if err != nil || got.ID != b.ID || got.Status != models.StatusScheduled || got.CreatedBy != u.ID {
		t.Fatalf("by token: %v %+v", err, got)
	}
	list, _ := st.Interviews(ctx, store.InterviewFilter{Search: "oslo"})
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("search by city: %d", len(list))
	}
	// LIKE metacharacters are literal.
	if list, _ := st.Interviews(ctx, store.InterviewFilter{Search: "_50%"}); len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("search with metacharacters: %d", len(list))
	}
	if list, _ := st.Interviews(ctx, store.InterviewFilter{Search: "%"}); len(list) != 1 {
		t.Fatalf("a bare %% must match only literal %%: %d", len(list))
	}
	if list, _ := st.Interviews(ctx, store.InterviewFilter{}); len(list) != 2 || list[0].ID != b.ID {
		t.Fatal("newest first")
	}
	now := time.Now()
	if err := st.RevokeInterview(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeInterview(ctx, a.ID, now); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("revoke twice: %v", err)
	}
	if err := st.RevokeInterview(ctx, 424242, now); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("revoke missing: %v", err)
	}
	if err := st.ReplaceInterviewToken(ctx, a.ID, []byte("h3"), now); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("relink revoked: %v", err)
	}
	if err := st.SetInterviewStatus(ctx, b.ID, models.StatusLive, now); err != nil {
		t.Fatal(err)
	}
	if err := st.SetInterviewStatus(ctx, b.ID, models.StatusCompleted, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Interview(ctx, b.ID)
	if got.StartedAt == nil || got.EndedAt == nil || !got.EndedAt.After(*got.StartedAt) || got.Status != models.StatusCompleted {
		t.Fatalf("lifecycle stamps: %+v", got)
	}
	if got.EffectiveStatus(at.Add(100*time.Hour)) != models.StatusCompleted {
		t.Fatal("a completed interview never shows as expired")
	}
	a2 := mk("Gamma", "", "h4")
	if a2.EffectiveStatus(at.Add(73*time.Hour)) != models.StatusExpired {
		t.Fatal("scheduled past expiry shows as expired")
	}
}

func TestAuditLogAppendOnly(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	if err := st.Audit(ctx, store.AuditEntry{Actor: "system", Action: "test.one", Target: "x:1", Detail: map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	entries, err := st.AuditLog(ctx, "x:1", 10)
	if err != nil || len(entries) != 1 || entries[0].Detail["k"] != "v" {
		t.Fatalf("read back: %v %+v", err, entries)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		_, err := tx.Exec(ctx, `SAVEPOINT sp`)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error %v, want append-only refusal", q, err)
		}
		_, _ = tx.Exec(ctx, `ROLLBACK TO SAVEPOINT sp`)
	}
}

func TestSettings(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	if _, err := st.Setting(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing setting: %v", err)
	}
	v1, err := st.SettingOrInit(ctx, "k", func() (string, error) { return "first", nil })
	if err != nil || v1 != "first" {
		t.Fatal(v1, err)
	}
	v2, _ := st.SettingOrInit(ctx, "k", func() (string, error) { return "second", nil })
	if v2 != "first" {
		t.Fatalf("an initialised setting must keep its value, got %q", v2)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	st, _ := pgtest.Tx(t)
	applied, err := st.Migrate(context.Background(), migrations.FS)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v (err %v)", applied, err)
	}
	migs, err := store.LoadMigrations(migrations.FS)
	if err != nil || len(migs) == 0 || migs[0].Version != 1 {
		t.Fatalf("load: %v", err)
	}
}

func TestInTxRollsBack(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx *store.Store) error {
		newUser(t, tx, "gone@example.test", models.RoleAdmin)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := st.UserByEmail(ctx, "gone@example.test"); !errors.Is(err, models.ErrNotFound) {
		t.Fatal("work of a failed transaction must be rolled back")
	}
}

// TestMigrateRefusesEditedMigration: an applied migration whose file changed
// stops Migrate (the server refuses to start) and nothing is applied; a
// database migrated before checksums were recorded gets them on the next
// start.
func TestMigrateRefusesEditedMigration(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	if _, err := st.Migrate(ctx, migrations.FS); err != nil {
		t.Fatal(err)
	}
	edited := fstest.MapFS{}
	entries, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(entries) < 2 {
		t.Fatalf("migrations: %v %v", entries, err)
	}
	for _, name := range entries {
		b, _ := fs.ReadFile(migrations.FS, name)
		edited[name] = &fstest.MapFile{Data: b}
	}
	edited[entries[1]].Data = append(append([]byte(nil), edited[entries[1]].Data...), []byte("\n-- a later edit\n")...)
	edited["999_new.up.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE migrate_edit_test (x int);`)}
	applied, err := st.Migrate(ctx, edited)
	if !errors.Is(err, store.ErrMigrationEdited) || len(applied) != 0 || !strings.Contains(err.Error(), strings.TrimSuffix(entries[1], ".up.sql")) {
		t.Fatalf("edited migration: applied %v, err %v", applied, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('migrate_edit_test') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("a migration after the edited one was applied (%v)", err)
	}
	// Rows recorded before checksums existed are filled in from the files.
	if _, err := tx.Exec(ctx, `UPDATE schema_migrations SET checksum = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx, migrations.FS); err != nil {
		t.Fatal(err)
	}
	migs, err := store.LoadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	versions := make([]int, len(migs))
	for i, m := range migs {
		versions[i] = m.Version
	}
	var missing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE checksum IS NULL AND version = ANY($1)`, versions).Scan(&missing); err != nil || missing != 0 {
		t.Fatalf("%d migrations without checksum after a start (%v)", missing, err)
	}
	if _, err := st.Migrate(ctx, edited); !errors.Is(err, store.ErrMigrationEdited) {
		t.Fatalf("after the backfill the edit must still be refused: %v", err)
	}
}
