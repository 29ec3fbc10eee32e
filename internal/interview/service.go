// Package interview is where interviews are created, found, re-linked and
// revoked for staff and for the admin API, and the one place that decides who
// may see and act on which interview. The HTML forms and the JSON API both go
// through it.
//
// The ownership model: a recruiter sees and acts on the interviews they
// created. The admin setting interview_sharing widens that to their team
// ("team": accounts an admin gave the same team) or to every recruiter
// ("organisation"). Admins and reviewers (the security team) see every
// interview; what they may do with it is their role's (internal/auth). The
// admin API token acts as an admin. An interview out of someone's scope is
// reported as not found, so its existence is not revealed.
package interview

import (
	"context"
	"errors"
	"fmt"
	stdmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// Sharing is how far recruiters see each other's interviews.
type Sharing string

// Sharing settings.
const (
	SharingOwn          Sharing = "own"          // a recruiter sees the interviews they created (the default)
	SharingTeam         Sharing = "team"         // … and those of their team
	SharingOrganisation Sharing = "organisation" // every recruiter sees every interview
)

// SharingKey is the settings key of the sharing setting.
const SharingKey = "interview_sharing"

// Valid reports whether s is a known setting.
func (s Sharing) Valid() bool {
	return s == SharingOwn || s == SharingTeam || s == SharingOrganisation
}

// Action is what someone wants to do with an interview.
type Action int

// Actions and the permission each needs (besides the interview being in scope).
const (
	View       Action = iota // read it: page, API
	Manage                   // new link, revoke
	Host                     // host the call
	Observe                  // watch the call silently
	Review                   // the review page and decisions
	Evidence                 // evidence images
	Administer               // export and erase the candidate's data
)

var actionPerm = map[Action]auth.Permission{
	View: auth.PermViewInterviews, Manage: auth.PermManageInterviews, Host: auth.PermJoinCall, Observe: auth.PermObserveCall,
	Review: auth.PermReview, Evidence: auth.PermViewEvidence, Administer: auth.PermManageUsers,
}

// Actor is who acts: a signed-in member of staff, or the admin API token (User nil).
type Actor struct {
	User *models.User
	IP   string
}

// audit is the actor as the audit log names it.
func (a Actor) audit(action string, iv int64) store.AuditEntry {
	e := store.AuditEntry{Actor: "api", Action: action, Target: fmt.Sprintf("interview:%d", iv), IP: a.IP}
	if a.User != nil {
		e.ActorID, e.Actor = &a.User.ID, a.User.Email
	}
	return e
}

// Store is what the service needs from the database; *store.Store satisfies it.
type Store interface {
	Interviews(ctx context.Context, f store.InterviewFilter) ([]*models.Interview, error)
	InterviewInScope(ctx context.Context, id int64, sc store.InterviewScope) (*models.Interview, error)
	Setting(ctx context.Context, key string) (string, error)
	InTx(ctx context.Context, fn func(tx *store.Store) error) error
	ReferencePhotoOf(ctx context.Context, interviewID int64) (*store.ReferencePhoto, error)
}

var _ Store = (*store.Store)(nil)

// Tokens makes join links; *auth.Signer satisfies it.
type Tokens interface {
	NewJoinToken() (token string, hash []byte, err error)
}

// Service creates, finds and changes interviews on someone's behalf.
type Service struct {
	store   Store
	tokens  Tokens
	linkTTL time.Duration
	now     func() time.Time
	photos  PhotoReader // reads reference photos; nil when face comparison is unavailable
}

// NewService returns a service; links stay valid linkTTL after the scheduled time.
func NewService(st Store, tokens Tokens, linkTTL time.Duration, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, tokens: tokens, linkTTL: linkTTL, now: now}
}

// Sharing returns the organisation's sharing setting (SharingOwn when unset or unknown).
func (s *Service) Sharing(ctx context.Context) (Sharing, error) {
	v, err := s.store.Setting(ctx, SharingKey)
	if errors.Is(err, models.ErrNotFound) {
		return SharingOwn, nil
	}
	if err != nil {
		return "", fmt.Errorf("interview: sharing setting: %w", err)
	}
	if sh := Sharing(v); sh.Valid() {
		return sh, nil
	}
	return SharingOwn, nil
}

// SetSharing stores the sharing setting (admins only) and audits the change.
func (s *Service) SetSharing(ctx context.Context, a Actor, sh Sharing) error {
	if !sh.Valid() {
		return fmt.Errorf("interview: sharing %q: %w", sh, models.ErrInvalid)
	}
	if a.User != nil && !auth.Can(a.User.Role, auth.PermManageUsers) {
		return fmt.Errorf("interview: sharing: %w", models.ErrForbidden)
	}
	return s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.SetSetting(ctx, SharingKey, string(sh)); err != nil {
			return err
		}
		e := a.audit("settings.sharing", 0)
		e.Target, e.Detail = "settings:"+SharingKey, map[string]any{"sharing": string(sh)}
		return tx.Audit(ctx, e)
	})
}

// Scope is the set of interviews a may see.
func (s *Service) Scope(ctx context.Context, a Actor) (store.InterviewScope, error) {
	u := a.User
	if u == nil || u.Role == models.RoleAdmin || u.Role == models.RoleReviewer {
		return store.InterviewScope{All: true}, nil
	}
	sh, err := s.Sharing(ctx)
	if err != nil {
		return store.InterviewScope{}, err
	}
	switch {
	case sh == SharingOrganisation:
		return store.InterviewScope{All: true}, nil
	case sh == SharingTeam && u.Team != "":
		return store.InterviewScope{OwnerID: u.ID, Team: u.Team}, nil
	}
	return store.InterviewScope{OwnerID: u.ID}, nil
}

// Get returns the interview if a may do action with it: models.ErrNotFound
// when it does not exist or is out of a's scope, models.ErrForbidden when a's
// role does not allow the action.
func (s *Service) Get(ctx context.Context, a Actor, id int64, action Action) (*models.Interview, error) {
	if a.User != nil && !auth.Can(a.User.Role, actionPerm[action]) {
		return nil, fmt.Errorf("interview: %w", models.ErrForbidden)
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.store.InterviewInScope(ctx, id, sc)
}

// List returns the interviews a may see matching search, newest first.
func (s *Service) List(ctx context.Context, a Actor, search string) ([]*models.Interview, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.store.Interviews(ctx, store.InterviewFilter{Search: search, Scope: &sc})
}

// Input is a new interview as a recruiter's form or an API call gives it.
type Input struct {
	CandidateName, CandidateEmail, ClaimedCity, ClaimedCountry, Notes string
	ScheduledAt                                                       time.Time
}

// InvalidError says what is wrong with an Input in words for the person who
// filled it in; it wraps models.ErrInvalid.
type InvalidError struct{ Message string }

// Error implements error.
func (e *InvalidError) Error() string { return "interview: " + e.Message }

// Unwrap makes errors.Is(err, models.ErrInvalid) hold.
func (e *InvalidError) Unwrap() error { return models.ErrInvalid }

// Validate trims in and checks it.
func (in *Input) Validate() error {
	for _, f := range []*string{&in.CandidateName, &in.CandidateEmail, &in.ClaimedCity, &in.ClaimedCountry, &in.Notes} {
		*f = strings.TrimSpace(*f)
		if !utf8.ValidString(*f) || strings.ContainsRune(*f, 0) {
			return &InvalidError{"The form contains characters that are not allowed."}
		}
	}
	switch a, err := stdmail.ParseAddress(in.CandidateEmail); {
	case in.CandidateName == "" || len(in.CandidateName) > 200:
		return &InvalidError{"Enter the candidate's name (at most 200 characters)."}
	case len(in.ClaimedCity) > 120 || len(in.ClaimedCountry) > 120 || len(in.Notes) > 4000:
		return &InvalidError{"City and country may have at most 120 characters, notes 4000."}
	case err != nil || a.Address != in.CandidateEmail || len(in.CandidateEmail) > 320:
		return &InvalidError{"Enter a valid e-mail address for the candidate."}
	case in.ScheduledAt.IsZero():
		return &InvalidError{"Enter the scheduled time as date and time (UTC)."}
	}
	return nil
}

// Created is a new interview with its join token (shown once, never stored).
type Created struct {
	Interview *models.Interview
	Token     string
}

// Create stores a new interview owned by a (none for the API token) and
// returns it with its join token.
func (s *Service) Create(ctx context.Context, a Actor, in Input) (*Created, error) {
	if a.User != nil && !auth.Can(a.User.Role, auth.PermManageInterviews) {
		return nil, fmt.Errorf("interview: %w", models.ErrForbidden)
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	token, hash, err := s.tokens.NewJoinToken()
	if err != nil {
		return nil, fmt.Errorf("interview: %w", err)
	}
	at := in.ScheduledAt.UTC()
	iv := &models.Interview{CandidateName: in.CandidateName, CandidateEmail: in.CandidateEmail, ClaimedCity: in.ClaimedCity,
		ClaimedCountry: in.ClaimedCountry, ScheduledAt: at, Notes: in.Notes, TokenHash: hash, ExpiresAt: at.Add(s.linkTTL)}
	if a.User != nil {
		iv.CreatedBy = a.User.ID
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInterview(ctx, iv); err != nil {
			return err
		}
		return tx.Audit(ctx, a.audit("interview.create", iv.ID))
	})
	if err != nil {
		return nil, err
	}
	return &Created{Interview: iv, Token: token}, nil
}

// Relink issues a new join link (the old one stops working), valid linkTTL
// after the scheduled time and at least linkTTL from now. An interview that
// ended or was revoked is models.ErrConflict.
func (s *Service) Relink(ctx context.Context, a Actor, id int64) (*Created, error) {
	iv, err := s.Get(ctx, a, id, Manage)
	if err != nil {
		return nil, err
	}
	token, hash, err := s.tokens.NewJoinToken()
	if err != nil {
		return nil, fmt.Errorf("interview: %w", err)
	}
	expires := iv.ScheduledAt.Add(s.linkTTL)
	if now := s.now(); expires.Before(now.Add(s.linkTTL)) {
		expires = now.Add(s.linkTTL) // a new link for a past date is valid linkTTL from now
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ReplaceInterviewToken(ctx, iv.ID, hash, expires); err != nil {
			return err
		}
		return tx.Audit(ctx, a.audit("interview.relink", iv.ID))
	})
	if err != nil {
		return nil, err
	}
	iv.ExpiresAt, iv.TokenHash = expires, hash
	return &Created{Interview: iv, Token: token}, nil
}

// Revoke withdraws the join link of a scheduled interview; any other status
// is models.ErrConflict.
func (s *Service) Revoke(ctx context.Context, a Actor, id int64) error {
	iv, err := s.Get(ctx, a, id, Manage)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeInterview(ctx, iv.ID, s.now()); err != nil {
			return err
		}
		return tx.Audit(ctx, a.audit("interview.revoke", iv.ID))
	})
}
