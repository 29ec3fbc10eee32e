package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
)

// store.ReuseMatch converts to netsig.Sighting.
var (
	_ = netsig.Sighting(store.ReuseMatch{})
)

// secAttempt inserts an attempt row directly (independent of StartAttempt's evolving shape).
func secAttempt(t *testing.T, db pgx.Tx, interviewID int64, browser, ip string, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), `INSERT INTO attempts (interview_id, browser_id, ip, started_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, interviewID, browser, ip, at).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestReuseMatches(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	me := secInterview(t, st, "me@c.test")
	sameIP := secInterview(t, st, "ip@c.test")
	sameMediaIP := secInterview(t, st, "media@c.test")
	sameBrowser := secInterview(t, st, "browser@c.test")
	sameFP := secInterview(t, st, "fp@c.test")
	old := secInterview(t, st, "old@c.test")
	stranger := secInterview(t, st, "stranger@c.test")

	a := secAttempt(t, db, me.ID, "browser-me-000000000000", "203.0.113.7", now)
	if err := st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: a, InterviewID: me.ID, At: now,
		IPs: []string{"203.0.113.7", "198.51.100.9"}, Fingerprint: "fp1:me", FPStrength: 0.5, ICE: json.RawMessage(`{"selected":"relay"}`)}); err != nil {
		t.Fatal(err)
	}
	secAttempt(t, db, sameIP.ID, "b1-0000000000000000000", "203.0.113.7", now.AddDate(0, 0, -3))
	m := secAttempt(t, db, sameMediaIP.ID, "b2-0000000000000000000", "192.0.2.1", now.AddDate(0, 0, -2))
	_ = st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: m, InterviewID: sameMediaIP.ID, At: now.AddDate(0, 0, -2), IPs: []string{"192.0.2.1", "198.51.100.9"}})
	secAttempt(t, db, sameBrowser.ID, "browser-me-000000000000", "192.0.2.2", now.AddDate(0, 0, -1))
	f := secAttempt(t, db, sameFP.ID, "b3-0000000000000000000", "192.0.2.3", now.AddDate(0, 0, -5))
	_ = st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: f, InterviewID: sameFP.ID, At: now.AddDate(0, 0, -5), IPs: []string{"192.0.2.3"}, Fingerprint: "fp1:me"})
	secAttempt(t, db, old.ID, "b4-0000000000000000000", "203.0.113.7", now.AddDate(0, 0, -40))
	s := secAttempt(t, db, stranger.ID, "", "192.0.2.9", now)
	_ = st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: s, InterviewID: stranger.ID, At: now, IPs: []string{"192.0.2.9"}, Fingerprint: ""})

	got, err := st.ReuseMatches(ctx, store.ReuseQuery{InterviewID: me.ID, IPs: []string{"203.0.113.7", "198.51.100.9"},
		BrowserIDs: []string{"browser-me-000000000000"}, Fingerprint: "fp1:me", Since: now.AddDate(0, 0, -30)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{sameIP.ID: "ip 203.0.113.7", sameMediaIP.ID: "ip 198.51.100.9", sameBrowser.ID: "browser browser-me-000000000000", sameFP.ID: "fingerprint fp1:me"}
	if len(got) != len(want) {
		t.Fatalf("%d matches, want %d: %+v", len(got), len(want), got)
	}
	for _, g := range got {
		if want[g.InterviewID] != g.Match+" "+g.Value {
			t.Errorf("unexpected match %+v", g)
		}
		if g.CandidateEmail == "" || g.At.IsZero() {
			t.Errorf("incomplete match %+v", g)
		}
	}
	if !got[0].At.After(got[len(got)-1].At) {
		t.Error("newest first")
	}
	// An empty fingerprint or empty browser id never matches everyone.
	got, _ = st.ReuseMatches(ctx, store.ReuseQuery{InterviewID: me.ID, BrowserIDs: []string{""}, Since: now.AddDate(-1, 0, 0)})
	if len(got) != 0 {
		t.Fatalf("empty identifiers matched: %+v", got)
	}
	nets, err := st.AttemptNetworks(ctx, me.ID)
	if err != nil || len(nets) != 1 || nets[0].FPStrength != 0.5 || len(nets[0].IPs) != 2 || string(nets[0].ICE) != `{"selected": "relay"}` {
		t.Fatalf("%v %+v", err, nets)
	}
	// Saving again replaces.
	_ = st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: a, InterviewID: me.ID, At: now, IPs: []string{"203.0.113.7"}})
	if nets, _ := st.AttemptNetworks(ctx, me.ID); len(nets) != 1 || len(nets[0].IPs) != 1 || nets[0].Fingerprint != "" {
		t.Fatalf("upsert: %+v", nets)
	}
}

func TestFaceDescriptors(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	a := secInterview(t, st, "a@c.test")
	b := secInterview(t, st, "b@c.test")
	for _, x := range []struct {
		id    int64
		model string
		at    time.Time
	}{{a.ID, "dlib-128", now}, {b.ID, "dlib-128", now.Add(-time.Hour)}, {b.ID, "arcface", now}, {b.ID, "dlib-128", now.AddDate(0, -2, 0)}} {
		if err := st.SaveFaceDescriptor(ctx, x.id, x.model, []float32{0.25, -1.5, 3}, x.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveFaceDescriptor(ctx, a.ID, "dlib-128", nil, now); err == nil {
		t.Fatal("an empty descriptor is refused")
	}
	got, err := st.FaceDescriptors(ctx, "dlib-128", now.AddDate(0, 0, -30), a.ID, 0)
	if err != nil || len(got) != 1 || got[0].InterviewID != b.ID || got[0].CandidateEmail != "b@c.test" || len(got[0].Descriptor) != 3 || got[0].Descriptor[1] != -1.5 {
		t.Fatalf("%v %+v (other model, own interview and old rows excluded)", err, got)
	}
}
