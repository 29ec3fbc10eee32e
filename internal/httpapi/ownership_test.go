package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

// TestInterviewOwnership: finding 2 of the security probe. created_by was
// stored but never checked: recruiter B read recruiter A's interview (the
// candidate's e-mail, notes), issued a new link (which killed A's), hosted the
// call and revoked it. Now a recruiter sees their own interviews; the admin
// setting widens it to the team or the organisation; admins and reviewers see
// all; the API token acts as an admin. Out of scope looks like "no such interview".
func TestInterviewOwnership(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken}})
	ctx := context.Background()
	alice, bob, carol := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleRecruiter)
	for _, u := range []*models.User{alice, bob} {
		if err := env.Store.SetUserTeam(ctx, u.ID, "emea"); err != nil {
			t.Fatal(err)
		}
	}
	admin, rev := env.CreateUser(models.RoleAdmin), env.CreateUser(models.RoleReviewer)
	cl := map[*models.User]*apptest.Client{}
	for _, u := range []*models.User{alice, bob, carol, admin, rev} {
		cl[u] = env.NewClient()
		cl[u].Login(u)
	}
	create := func(u *models.User, name string) (int64, string) {
		r := cl[u].Post("/interviews", url.Values{"candidate_name": {name}, "candidate_email": {"c@candidate.test"},
			"scheduled_at": {"2030-01-02T10:00"}, "notes": {"private notes of " + name}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create as %s: %d", u.Email, r.Status)
		}
		var id int64
		fmt.Sscanf(r.Location, "/interviews/%d", &id)
		page := cl[u].Get(r.Location)
		m := regexp.MustCompile(`/join/([A-Za-z0-9_-]+)`).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("no join link shown to %s", u.Email)
		}
		return id, m[1]
	}
	aliceIv, aliceLink := create(alice, "Alice Candidate")
	bobIv, _ := create(bob, "Bob Candidate")
	apiResp := apiCall(t, env, env.NewClient(), http.MethodPost, "/api/interviews", testAPIToken,
		`{"candidate_name":"Api Candidate","candidate_email":"api@candidate.test"}`)
	if apiResp.status != http.StatusCreated {
		t.Fatalf("API create: %d %s", apiResp.status, apiResp.body)
	}
	var apiIv int64
	fmt.Sscanf(apiResp.body, `{"id":%d`, &apiIv)

	sees := func(u *models.User, id int64) bool {
		r := cl[u].Get(fmt.Sprintf("/interviews/%d", id))
		if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
			t.Fatalf("%s on interview %d: status %d", u.Email, id, r.Status)
		}
		return r.Status == http.StatusOK
	}
	lists := func(u *models.User, name string) bool { return strings.Contains(cl[u].Get("/").Body, name) }
	check := func(setting string, want map[*models.User][]bool) {
		t.Helper()
		for u, w := range want {
			for i, id := range []int64{aliceIv, bobIv, apiIv} {
				name := []string{"Alice Candidate", "Bob Candidate", "Api Candidate"}[i]
				if got := sees(u, id); got != w[i] {
					t.Errorf("sharing %s: %s opening %s's interview: %v, want %v", setting, u.Email, name, got, w[i])
				}
				if got := lists(u, name); got != w[i] {
					t.Errorf("sharing %s: %s's dashboard lists %s: %v, want %v", setting, u.Email, name, got, w[i])
				}
			}
		}
	}
	all := []bool{true, true, true}
	check("own (default)", map[*models.User][]bool{alice: {true, false, false}, bob: {false, true, false}, carol: {false, false, false},
		admin: all, rev: all})

	// Bob cannot act on Alice's interview either: a new link, the call, the
	// signaling socket, revoking. Alice's link keeps working.
	for _, r := range []*apptest.Response{
		cl[bob].Post(fmt.Sprintf("/interviews/%d/resend", aliceIv), nil),
		cl[bob].Post(fmt.Sprintf("/interviews/%d/revoke", aliceIv), nil),
		cl[bob].Get(fmt.Sprintf("/interviews/%d/call", aliceIv)),
		cl[bob].Get(fmt.Sprintf("/ws/interviews/%d?mode=host", aliceIv)),
	} {
		if r.Status != http.StatusNotFound {
			t.Errorf("Bob acting on Alice's interview: status %d, want 404", r.Status)
		}
	}
	if r := env.NewClient().Get("/join/" + aliceLink); r.Status != http.StatusOK {
		t.Fatalf("Alice's link after Bob's attempts: %d", r.Status)
	}
	iv, _ := env.Store.Interview(ctx, aliceIv)
	if iv.Status != models.StatusScheduled {
		t.Fatalf("Alice's interview is %s after Bob's attempts", iv.Status)
	}

	// Team sharing: Alice and Bob (team emea) see and manage each other's; Carol (no team) only hers.
	if r := cl[admin].Post("/admin/sharing", url.Values{"sharing": {"team"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("set sharing: %d", r.Status)
	}
	check("team", map[*models.User][]bool{alice: {true, true, false}, bob: {true, true, false}, carol: {false, false, false}})
	if r := cl[bob].Post(fmt.Sprintf("/interviews/%d/resend", aliceIv), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("Bob renewing his teammate's link: %d", r.Status)
	}
	// Moving Bob out of the team takes effect at once.
	if r := cl[admin].Post(fmt.Sprintf("/admin/users/%d", bob.ID), url.Values{"role": {"recruiter"}, "team": {"apac"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("change team: %d", r.Status)
	}
	check("team, Bob moved", map[*models.User][]bool{bob: {false, true, false}})

	// Organisation-wide: every recruiter sees everything.
	cl[admin].Post("/admin/sharing", url.Values{"sharing": {"organisation"}})
	check("organisation", map[*models.User][]bool{alice: all, bob: all, carol: all})
	if r := cl[admin].Post("/admin/sharing", url.Values{"sharing": {"everyone!"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("unknown sharing setting: %d", r.Status)
	}
	// Only admins change it.
	if r := cl[alice].Post("/admin/sharing", url.Values{"sharing": {"own"}}); r.Status != http.StatusForbidden {
		t.Fatalf("a recruiter setting the sharing: %d", r.Status)
	}
	entries, _ := env.Store.AuditLog(ctx, "settings:interview_sharing", 10)
	if len(entries) != 2 {
		t.Fatalf("%d audit entries for the sharing setting, want 2", len(entries))
	}
}
