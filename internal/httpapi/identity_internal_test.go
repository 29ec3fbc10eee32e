package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// TestReuseReasonParsing reads faceid.ReuseSignal's own reason: every
// interview it names is found, and redaction hides exactly those the
// viewer may not see (number and date), keeping the distance.
func TestReuseReasonParsing(t *testing.T) {
	var self, a, b faceid.Descriptor
	a[0], b[1] = 0.2, 0.35
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	sg, ok := faceid.ReuseSignal(self, []faceid.Candidate{{InterviewID: 7, At: at, D: a}, {InterviewID: 12, At: at.AddDate(0, 0, 3), D: b}})
	if !ok || sg.Score < 0.5 {
		t.Fatalf("reuse signal: %+v", sg)
	}
	ms := reuseMatches(sg.Reason)
	if len(ms) != 2 || ms[0].ID != 7 || ms[0].Date != "2026-11-20" || ms[0].Distance != "0.20" || ms[1].ID != 12 || ms[1].Distance != "0.35" {
		t.Fatalf("matches of %q: %+v", sg.Reason, ms)
	}
	red := redactReuse(sg.Reason, func(id int64) bool { return id == 7 })
	if !strings.Contains(red, "interview 7 on 2026-11-20 (distance 0.20)") || strings.Contains(red, "12") || strings.Contains(red, "2026-11-23") ||
		!strings.Contains(red, "another interview (distance 0.35)") {
		t.Fatalf("redacted: %q", red)
	}
	marked := map[int64]bool{7: true}
	if got := countingSignals([]models.Signal{sg}, marked); len(got) != 1 {
		t.Fatalf("one of two matches marked: the reason still counts (%d)", len(got))
	}
	marked[12] = true
	if got := countingSignals([]models.Signal{sg}, marked); len(got) != 0 {
		t.Fatalf("every match marked: the reason must not count (%d)", len(got))
	}
}
