package httpapi

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

var allRoles = []models.Role{models.RoleRecruiter, models.RoleReviewer, models.RoleAdmin}

// newUser validates the posted account form and creates the user. msg is a
// message for the person when the input is wrong.
func (s *Server) newUser(c *gin.Context, role models.Role) (u *models.User, msg string, err error) {
	name := strings.TrimSpace(c.PostForm("name"))
	email := strings.TrimSpace(c.PostForm("email"))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 320 {
		return nil, "Enter a valid e-mail address.", nil
	}
	if name == "" || len(name) > 200 {
		return nil, "Enter a name (at most 200 characters).", nil
	}
	hash, err := s.passwords.Hash(c.PostForm("password"))
	if err != nil {
		return nil, "The password must have between 10 and 72 characters.", nil
	}
	u = &models.User{Email: email, Name: name, Role: role, PasswordHash: hash}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, "An account with this e-mail already exists.", nil
		}
		return nil, "", err
	}
	actor := currentUser(c)
	e := store.AuditEntry{Actor: u.Email, Action: "user.create", Target: "user:" + strconv.FormatInt(u.ID, 10),
		Detail: map[string]any{"role": string(role)}, IP: c.ClientIP()}
	if actor != nil {
		e.ActorID, e.Actor = &actor.ID, actor.Email
	}
	_ = s.Store.Audit(ctx, e)
	return u, "", nil
}

func (s *Server) usersPage(c *gin.Context) { s.renderUsers(c, http.StatusOK, "") }

func (s *Server) renderUsers(c *gin.Context, status int, msg string) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	users, err := s.Store.Users(ctx)
	if err != nil {
		s.internalError(c, "list users", err)
		return
	}
	sharing, err := s.interviews.Sharing(ctx)
	if err != nil {
		s.internalError(c, "sharing setting", err)
		return
	}
	locked := map[int64]int{} // user id → sources whose sign-in is paused
	byEmail := s.lockout.Locked()
	for _, u := range users {
		if n := byEmail[strings.ToLower(u.Email)]; n > 0 {
			locked[u.ID] = n
		}
	}
	s.render(c, status, "users", "Users", gin.H{"Users": users, "Roles": allRoles, "Sharing": string(sharing),
		"SharingChoices": sharingChoices, "Locked": locked}, msg)
}

// sharingChoices are the interview sharing settings as the users page offers them.
var sharingChoices = []struct{ Value, Label string }{
	{string(interview.SharingOwn), "see only the interviews they created"},
	{string(interview.SharingTeam), "also see and manage their team's interviews"},
	{string(interview.SharingOrganisation), "see and manage every interview"},
}

// setSharing stores how far recruiters see each other's interviews.
func (s *Server) setSharing(c *gin.Context) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.interviews.SetSharing(ctx, s.actor(c), interview.Sharing(c.PostForm("sharing")))
	if errors.Is(err, models.ErrInvalid) {
		s.renderUsers(c, http.StatusBadRequest, "Choose how interviews are shared.")
		return
	}
	if err != nil {
		s.internalError(c, "set sharing", err)
		return
	}
	s.flash(c, "Interview sharing saved.")
	c.Redirect(http.StatusSeeOther, "/admin/users")
}

func (s *Server) createUser(c *gin.Context) {
	role := models.Role(c.PostForm("role"))
	if !role.Valid() {
		s.renderUsers(c, http.StatusBadRequest, "Choose a role.")
		return
	}
	u, msg, err := s.newUser(c, role)
	if msg != "" {
		s.renderUsers(c, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		s.internalError(c, "create user", err)
		return
	}
	s.flash(c, "Added "+u.Email+" as "+string(u.Role)+".")
	c.Redirect(http.StatusSeeOther, "/admin/users")
}

// userByParam loads the account of the :id parameter, or answers 404.
func (s *Server) userByParam(c *gin.Context) *models.User {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such user.")
		return nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.Store.UserByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such user.")
		return nil
	} else if err != nil {
		s.internalError(c, "fetch user", err)
		return nil
	}
	return u
}

func (s *Server) updateUser(c *gin.Context) {
	before := s.userByParam(c)
	if before == nil {
		return
	}
	id := before.ID
	role := models.Role(c.PostForm("role"))
	if !role.Valid() {
		s.renderUsers(c, http.StatusBadRequest, "Choose a role.")
		return
	}
	disabled := c.PostForm("disabled") == "1"
	team, setTeam := c.GetPostForm("team")
	if team = strings.TrimSpace(team); len(team) > 64 {
		s.renderUsers(c, http.StatusBadRequest, "A team name may have at most 64 characters.")
		return
	}
	actor := currentUser(c)
	if actor.ID == id && (disabled || role != models.RoleAdmin) {
		s.renderUsers(c, http.StatusBadRequest, "You cannot disable yourself or remove your own admin role.")
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUserAccess(ctx, id, role, disabled); err != nil {
			return err
		}
		if !setTeam {
			team = before.Team
		} else if err := tx.SetUserTeam(ctx, id, team); err != nil {
			return err
		}
		if disabled || role != before.Role {
			if err := tx.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, Actor: actor.Email, Action: "user.update",
			Target: "user:" + strconv.FormatInt(id, 10), IP: c.ClientIP(),
			Detail: map[string]any{"role_before": string(before.Role), "role": string(role), "disabled_before": before.Disabled, "disabled": disabled,
				"team_before": before.Team, "team": team}})
	})
	if err != nil {
		s.internalError(c, "update user", err)
		return
	}
	s.flash(c, "Saved "+before.Email+".")
	c.Redirect(http.StatusSeeOther, "/admin/users")
}
