package interview

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestValidate(t *testing.T) {
	good := Input{CandidateName: " Ada ", CandidateEmail: "ada@example.test", ScheduledAt: time.Now()}
	if err := good.Validate(); err != nil || good.CandidateName != "Ada" {
		t.Fatalf("valid input: %v (%q)", err, good.CandidateName)
	}
	for name, in := range map[string]Input{
		"no name":   {CandidateEmail: "a@b.test", ScheduledAt: time.Now()},
		"long name": {CandidateName: strings.Repeat("x", 201), CandidateEmail: "a@b.test", ScheduledAt: time.Now()},
		"bad email": {CandidateName: "A", CandidateEmail: "A <a@b.test>", ScheduledAt: time.Now()},
		"NUL":       {CandidateName: "A\x00", CandidateEmail: "a@b.test", ScheduledAt: time.Now()},
		"bad UTF-8": {CandidateName: "A", CandidateEmail: "a@b.test", Notes: "\xff", ScheduledAt: time.Now()},
		"no time":   {CandidateName: "A", CandidateEmail: "a@b.test"},
		"long city": {CandidateName: "A", CandidateEmail: "a@b.test", ClaimedCity: strings.Repeat("x", 121), ScheduledAt: time.Now()},
	} {
		var ie *InvalidError
		if err := in.Validate(); !errors.As(err, &ie) || !errors.Is(err, models.ErrInvalid) || ie.Message == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestScopeAndActions runs the ownership rule against the real store.
func TestScopeAndActions(t *testing.T) {
	st, _ := pgtest.Tx(t)
	ctx := context.Background()
	signer, err := auth.NewSigner([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(st, signer, 72*time.Hour, nil)
	user := func(role models.Role, email, team string) *models.User {
		u := &models.User{Email: email, Role: role, PasswordHash: "x", Team: team}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b := user(models.RoleRecruiter, "a@x.test", "t1"), user(models.RoleRecruiter, "b@x.test", "t1")
	rev, adm := user(models.RoleReviewer, "r@x.test", ""), user(models.RoleAdmin, "d@x.test", "")
	in := Input{CandidateName: "C", CandidateEmail: "c@x.test", ScheduledAt: time.Now()}
	created, err := svc.Create(ctx, Actor{User: a}, in)
	if err != nil {
		t.Fatal(err)
	}
	id := created.Interview.ID
	if created.Interview.CreatedBy != a.ID || created.Token == "" {
		t.Fatalf("created %+v", created)
	}
	if _, err := svc.Create(ctx, Actor{User: rev}, in); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a reviewer creating: %v", err)
	}
	for _, tc := range []struct {
		who    *models.User
		action Action
		want   error
	}{
		{a, View, nil}, {a, Manage, nil}, {a, Host, nil}, {a, Review, models.ErrForbidden},
		{b, View, models.ErrNotFound}, {b, Manage, models.ErrNotFound}, {b, Host, models.ErrNotFound},
		{rev, View, nil}, {rev, Review, nil}, {rev, Observe, nil}, {rev, Manage, models.ErrForbidden}, {rev, Host, models.ErrForbidden},
		{adm, Administer, nil}, {adm, Host, nil}, {nil, Host, nil},
	} {
		actor := Actor{User: tc.who}
		_, err := svc.Get(ctx, actor, id, tc.action)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			who := "the API token"
			if tc.who != nil {
				who = tc.who.Email
			}
			t.Errorf("%s, action %d: %v, want %v", who, tc.action, err, tc.want)
		}
	}
	if err := svc.Revoke(ctx, Actor{User: b}, id); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("b revoking a's: %v", err)
	}
	if err := svc.SetSharing(ctx, Actor{User: a}, SharingTeam); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a recruiter changing the sharing: %v", err)
	}
	if err := svc.SetSharing(ctx, Actor{User: adm}, SharingTeam); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Relink(ctx, Actor{User: b}, id); err != nil {
		t.Fatalf("b, same team, renewing the link: %v", err)
	}
	list, err := svc.List(ctx, Actor{User: b}, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("b's list with team sharing: %d, %v", len(list), err)
	}
	if err := svc.Revoke(ctx, Actor{User: b}, id); err != nil {
		t.Fatal(err)
	}
	if err := svc.Revoke(ctx, Actor{User: a}, id); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("revoking twice: %v", err)
	}
	if _, err := svc.Get(ctx, Actor{User: a}, id+1000, View); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing interview: %v", err)
	}
	var _ Store = (*store.Store)(nil)
}
