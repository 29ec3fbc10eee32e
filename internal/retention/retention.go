// Package retention enforces how long livecheck keeps biometric evidence and
// serves candidates' data rights: a background purge of biometric rows older
// than the retention period, the export of everything stored about a
// candidate as a zip, and its erasure. The consent record and the audit trail
// always remain; every action appends an audit entry.
package retention

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/store"
)

// DefaultDays is the default retention period of biometric evidence.
const DefaultDays = 30

// Audit actions written by this package.
const (
	ActionPurge  = "retention.purge"
	ActionExport = "candidate.export"
	ActionErase  = "candidate.erase"
)

// Purger deletes biometric evidence older than Days: biometric series (face
// presence, landmark-derived pose/eye/mouth series, audio and voice features),
// evidence images (challenge and identity faces), face descriptors (session
// templates), reference photos, and "same person" marks whose pair lost its
// templates.
// Signals, verdicts, challenge results, consents and the audit log stay. It runs
// as a River job (PurgeWorker).
type Purger struct {
	Store  *store.Store
	Days   int              // DefaultDays when ≤ 0
	Now    func() time.Time // time.Now when nil
	Logger *slog.Logger     // discard when nil
}

func (p *Purger) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Purger) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return p.Logger
}

// Cutoff is the creation time before which evidence is purged at now.
func (p *Purger) Cutoff(now time.Time) time.Time {
	days := p.Days
	if days <= 0 {
		days = DefaultDays
	}
	return now.AddDate(0, 0, -days)
}

// PurgeOnce deletes what has expired and, when it deleted anything, appends a
// "retention.purge" audit entry with the counts, in the same transaction.
func (p *Purger) PurgeOnce(ctx context.Context) (store.PurgeResult, error) {
	now := p.now()
	cutoff := p.Cutoff(now)
	var r store.PurgeResult
	err := p.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if r, err = tx.PurgeBiometric(ctx, cutoff); err != nil {
			return err
		}
		if r.Total() == 0 {
			return nil
		}
		return tx.Audit(ctx, store.AuditEntry{Actor: "system", Action: ActionPurge, Target: "biometric",
			Detail: map[string]any{"before": cutoff.UTC().Format(time.RFC3339), "series": r.Series, "evidence": r.Evidence,
				"face_descriptors": r.FaceDescriptors, "reference_photos": r.ReferencePhotos, "identity_marks": r.IdentityMarks,
				"checkpoints": r.Checkpoints}})
	})
	if err != nil {
		return store.PurgeResult{}, fmt.Errorf("retention: purge: %w", err)
	}
	if r.Total() > 0 {
		p.logger().Info("retention: purged biometric evidence", "before", cutoff, "series", r.Series, "evidence", r.Evidence,
			"face_descriptors", r.FaceDescriptors, "reference_photos", r.ReferencePhotos, "identity_marks", r.IdentityMarks,
			"checkpoints", r.Checkpoints)
	}
	return r, nil
}

// PurgeArgs is the River job that runs one purge. The cluster's River leader
// enqueues it periodically (PeriodicPurge), so one node purges per period
// however many run; a failed purge is retried by River.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "retention_purge" }

// InsertOpts implements river.JobArgsWithInsertOpts: at most one purge
// waiting or running at a time.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return jobs.OneAtATime(5)
}

// PurgeWorker works PurgeArgs jobs with a Purger.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	P *Purger
}

// Work implements river.Worker.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	_, err := w.P.PurgeOnce(ctx)
	return err
}

// PeriodicPurge is the periodic job that enqueues a purge every interval
// (1 h when ≤ 0) and once when a node becomes the cluster's River leader.
func PeriodicPurge(interval time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		interval = time.Hour
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{ID: "retention_purge", RunOnStart: true})
}

// Actor is the staff member behind an export or erasure, for the audit log.
type Actor struct {
	ID    *int64
	Email string
	IP    string
}

func (a Actor) name() string {
	if a.Email == "" {
		return "system"
	}
	return a.Email
}

// ExportFormat names the layout of export zips.
const ExportFormat = "livecheck-candidate-export-1"

// Manifest is manifest.json in an export zip.
type Manifest struct {
	Format      string    `json:"format"`
	InterviewID int64     `json:"interview_id"`
	ExportedAt  time.Time `json:"exported_at"`
	ExportedBy  string    `json:"exported_by"`
	Files       []string  `json:"files"`
	Note        string    `json:"note"`
}

// Export writes everything stored about an interview's candidate to w as a
// zip:
//
//	manifest.json            format, interview, time, who, file list
//	interview.json           the interview (without the join token hash)
//	tables/<table>.json      the rows of every per-interview table (attempts,
//	                         consents, signals, series, verdicts, reviews, …)
//	files/<table>/<row>_<column>.jpg|.bin   binary columns (evidence images);
//	                         each row holds this path in place of the bytes
//
// The "candidate.export" audit entry is appended before anything is read, so
// an export that fails halfway is still on record.
func Export(ctx context.Context, st *store.Store, interviewID int64, actor Actor, now time.Time, w io.Writer) error {
	if err := st.Audit(ctx, store.AuditEntry{ActorID: actor.ID, Actor: actor.name(), Action: ActionExport,
		Target: fmt.Sprintf("interview:%d", interviewID), Detail: map[string]any{"format": ExportFormat}, IP: actor.IP}); err != nil {
		return fmt.Errorf("retention: export: %w", err)
	}
	ex, err := st.ExportInterview(ctx, interviewID)
	if err != nil {
		return fmt.Errorf("retention: export: %w", err)
	}
	zw := zip.NewWriter(w)
	m := Manifest{Format: ExportFormat, InterviewID: interviewID, ExportedAt: now.UTC(), ExportedBy: actor.name(),
		Note: "Everything livecheck stores about this interview. Biometric evidence older than the retention period has already been deleted."}
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now.UTC()})
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
		m.Files = append(m.Files, name)
		return nil
	}
	if err := add("interview.json", indent(ex.Interview)); err != nil {
		return fmt.Errorf("retention: export: %w", err)
	}
	tables := make([]string, 0, len(ex.Tables))
	for t := range ex.Tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		b, err := json.MarshalIndent(ex.Tables[t], "", "  ")
		if err != nil {
			return fmt.Errorf("retention: export %s: %w", t, err)
		}
		if err := add("tables/"+t+".json", b); err != nil {
			return fmt.Errorf("retention: export: %w", err)
		}
	}
	for _, b := range ex.Blobs {
		if err := add(store.BlobName(b), b.Data); err != nil {
			return fmt.Errorf("retention: export: %w", err)
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("retention: export manifest: %w", err)
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: now.UTC()})
	if err == nil {
		_, err = f.Write(mb)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("retention: export: %w", err)
	}
	return nil
}

func indent(raw json.RawMessage) []byte {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return raw
	}
	return b
}

// Erase deletes an interview's candidate data except the consent record and
// the audit log (see store.EraseInterview) and appends a "candidate.erase"
// audit entry with the deleted row counts, in one transaction. It returns the
// counts per table.
func Erase(ctx context.Context, st *store.Store, interviewID int64, actor Actor, now time.Time) (map[string]int64, error) {
	var deleted map[string]int64
	err := st.InTx(ctx, func(tx *store.Store) error {
		var err error
		if deleted, err = tx.EraseInterview(ctx, interviewID, actor.ID, now); err != nil {
			return err
		}
		detail := map[string]any{}
		for t, n := range deleted {
			if n > 0 {
				detail[t] = n
			}
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: actor.ID, Actor: actor.name(), Action: ActionErase,
			Target: fmt.Sprintf("interview:%d", interviewID), Detail: map[string]any{"deleted": detail}, IP: actor.IP})
	})
	if err != nil {
		return nil, fmt.Errorf("retention: erase: %w", err)
	}
	return deleted, nil
}
