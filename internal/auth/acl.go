package auth

import "github.com/livecheck/livecheck/models"

// Permission is one thing a staff member may do.
type Permission string

// Permissions.
const (
	PermViewInterviews   Permission = "interviews.view"
	PermManageInterviews Permission = "interviews.manage"
	PermJoinCall         Permission = "call.join"     // host the call (recruiter)
	PermObserveCall      Permission = "call.observe"  // watch a live call silently
	PermReview           Permission = "review.decide" // reviewer console and decisions
	PermViewEvidence     Permission = "evidence.view"
	PermManageUsers      Permission = "users.manage"
	PermViewAudit        Permission = "audit.view"
)

// rules is the one permission table: role → what it may do.
var rules = map[models.Role]map[Permission]bool{
	models.RoleAdmin: {
		PermViewInterviews: true, PermManageInterviews: true, PermJoinCall: true, PermObserveCall: true,
		PermReview: true, PermViewEvidence: true, PermManageUsers: true, PermViewAudit: true,
	},
	models.RoleRecruiter: {
		PermViewInterviews: true, PermManageInterviews: true, PermJoinCall: true,
	},
	models.RoleReviewer: {
		PermViewInterviews: true, PermObserveCall: true, PermReview: true, PermViewEvidence: true,
	},
}

// Can reports whether role has permission p.
func Can(role models.Role, p Permission) bool { return rules[role][p] }
