package app

import (
	"context"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/store"
)

// auditSessionEnd records in the audit log that a session ended and was stored
// (whoever or whatever ended it: the recruiter, the candidate not coming back,
// a shutdown). Once per session, although the write queue may retry.
func auditSessionEnd(ctx context.Context, st *store.Store, r *analysis.Result) error {
	detail := map[string]any{"session": r.StartedAt.UTC().Format(time.RFC3339Nano), "reason": r.Reason,
		"duration_s": int(r.EndedAt.Sub(r.StartedAt).Seconds())}
	if !r.ResumedAt.IsZero() { // the session went on from its checkpoint after its node died
		detail["resumed_at"] = r.ResumedAt.UTC().Format(time.RFC3339Nano)
	}
	return st.AuditOnce(ctx, store.AuditEntry{Actor: "system", Action: "session.end", Target: fmt.Sprintf("interview:%d", r.InterviewID),
		Detail: detail}, "session")
}
