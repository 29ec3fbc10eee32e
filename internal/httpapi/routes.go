package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/web"
)

// Router registers routes together with who may call them.
type Router struct {
	s *Server
	e *gin.Engine
}

// Public registers a route anyone may call (its handler does its own checks,
// e.g. a candidate's join token).
func (r *Router) Public(method, path string, h ...gin.HandlerFunc) {
	r.e.Handle(method, path, h...)
}

// Staff registers a route for signed-in staff whose role has p.
func (r *Router) Staff(method, path string, p auth.Permission, h ...gin.HandlerFunc) {
	r.e.Handle(method, path, append([]gin.HandlerFunc{r.s.requirePerm(p)}, h...)...)
}

// Server returns the HTTP server the routes belong to.
func (r *Router) Server() *Server { return r.s }

func (s *Server) routes(r *Router) {
	r.e.StaticFS("/static", http.FS(web.Static()))
	r.Public(http.MethodGet, "/favicon.ico", s.favicon)
	r.Public(http.MethodGet, "/healthz", s.healthz)
	r.Public(http.MethodGet, "/readyz", s.readyz)
	s.apiRoutes(r) // /api/...: admin JSON API, Bearer token checked in the handlers (api.go)

	r.Public(http.MethodGet, "/login", s.loginPage)
	r.Public(http.MethodPost, "/login", s.login)
	r.Public(http.MethodPost, "/logout", s.logout)
	r.Public(http.MethodPost, "/login/unlock", s.sendUnlockLink)
	r.Public(http.MethodGet, "/login/unlock/:token", s.unlockPage)
	r.Public(http.MethodPost, "/login/unlock/:token", s.unlock)
	r.Public(http.MethodGet, "/setup/:token", s.setupPage)
	r.Public(http.MethodPost, "/setup/:token", s.setup)

	r.Staff(http.MethodGet, "/", auth.PermViewInterviews, s.dashboard)
	r.Staff(http.MethodGet, "/interviews/new", auth.PermManageInterviews, s.newInterviewPage)
	r.Staff(http.MethodPost, "/interviews", auth.PermManageInterviews, s.createInterview)
	r.Staff(http.MethodGet, "/interviews/:id", auth.PermViewInterviews, s.interviewPage)
	r.Staff(http.MethodPost, "/interviews/:id/resend", auth.PermManageInterviews, s.relinkInterview)
	r.Staff(http.MethodPost, "/interviews/:id/revoke", auth.PermManageInterviews, s.revokeInterview)
	r.Staff(http.MethodPost, "/interviews/:id/reference", auth.PermManageInterviews, s.attachReference)
	r.Staff(http.MethodPost, "/interviews/:id/reference/delete", auth.PermManageInterviews, s.removeReference)
	r.Staff(http.MethodGet, "/interviews/:id/reference", auth.PermViewEvidence, s.referenceImage)

	r.Staff(http.MethodGet, "/review", auth.PermReview, s.reviewQueue)
	r.Staff(http.MethodGet, "/review/:id", auth.PermReview, s.reviewSession)
	r.Staff(http.MethodPost, "/review/:id/decision", auth.PermReview, s.reviewDecide)
	r.Staff(http.MethodPost, "/review/:id/identity/mark", auth.PermReview, s.identityMark(false))
	r.Staff(http.MethodPost, "/review/:id/identity/unmark", auth.PermReview, s.identityMark(true))

	r.Staff(http.MethodGet, "/admin/users", auth.PermManageUsers, s.usersPage)
	r.Staff(http.MethodPost, "/admin/users", auth.PermManageUsers, s.createUser)
	r.Staff(http.MethodPost, "/admin/users/:id", auth.PermManageUsers, s.updateUser)
	r.Staff(http.MethodPost, "/admin/sharing", auth.PermManageUsers, s.setSharing)
	r.Staff(http.MethodPost, "/admin/users/:id/unlock", auth.PermManageUsers, s.adminUnlock)
	r.Staff(http.MethodGet, "/admin/audit", auth.PermViewAudit, s.auditPage)
	r.Staff(http.MethodGet, "/admin/webhooks", auth.PermManageUsers, s.webhooksPage)
	r.Staff(http.MethodPost, "/admin/webhooks", auth.PermManageUsers, s.createWebhook)
	r.Staff(http.MethodPost, "/admin/webhooks/:wid/delete", auth.PermManageUsers, s.deleteWebhook)
	r.Staff(http.MethodGet, "/interviews/:id/export", auth.PermManageUsers, s.exportCandidate)
	r.Staff(http.MethodPost, "/interviews/:id/erase", auth.PermManageUsers, s.eraseCandidate)

	r.Staff(http.MethodGet, "/interviews/:id/evidence/:eid", auth.PermViewEvidence, s.evidenceImage)
	r.Staff(http.MethodGet, "/interviews/:id/call", auth.PermJoinCall, s.staffCallPage("host"))
	r.Staff(http.MethodGet, "/interviews/:id/observe", auth.PermObserveCall, s.staffCallPage("observe"))
	r.Staff(http.MethodGet, "/interviews/:id/node", auth.PermViewInterviews, s.staffRoute)
	wsLimits := []gin.HandlerFunc{s.rateLimit(s.limits.wsIP, byIP, "connection attempts")}
	r.Staff(http.MethodGet, "/ws/interviews/:id", auth.PermViewInterviews,
		append(wsLimits, s.rateLimit(s.limits.wsInterview, byParam("id"), "connection attempts to this interview"), s.staffWS)...)

	joinLimit := s.rateLimit(s.limits.join, byIP, "requests")
	r.Public(http.MethodGet, "/join/:token", joinLimit, s.joinPage)
	r.Public(http.MethodPost, "/join/:token/consent", joinLimit, s.consent)
	r.Public(http.MethodGet, "/join/:token/check", joinLimit, s.deviceCheck)
	r.Public(http.MethodGet, "/join/:token/call", joinLimit, s.candidateCall)
	r.Public(http.MethodGet, "/join/:token/node", joinLimit, s.candidateRoute)
	r.Public(http.MethodGet, "/ws/join/:token", append(wsLimits, s.rateLimit(s.limits.wsInterview, byParam("token"), "connection attempts to this interview"), s.candidateWS)...)
}
