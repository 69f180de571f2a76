package server

import (
	"context"
	"net/http"
	"sort"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// The routing table: every endpoint, the permission it needs, and the
// wrapper that authenticates and authorizes a request before its handler.

// Route is one endpoint: its method, its path pattern (net/http and OpenAPI
// share the {id} syntax) and what a caller needs.
type Route struct {
	Method  string
	Pattern string
	// Auth is false only for endpoints open to anyone (healthz, login).
	Auth bool
	// Permission the caller must hold; "" means any signed-in caller.
	Permission string
	// PermissionForOthers, when set, is needed as well unless the path's
	// {id} is the caller's own user ID: signing oneself out of one's other
	// devices is one's own business (view is enough), signing out anyone
	// else is a bulk termination.
	PermissionForOthers string
	handle              func(w http.ResponseWriter, r *http.Request, c *caller) error
}

// Routes lists every endpoint with its permission. Tests compare it with the
// OpenAPI document and drive the permission matrix from it.
func Routes() []Route {
	var s *Server
	return s.routes()
}

func (s *Server) routes() []Route {
	b := api.BasePath
	return []Route{
		{Method: "GET", Pattern: "/healthz", handle: s.healthz},
		{Method: "POST", Pattern: b + "/auth/login", handle: s.login},
		{Method: "POST", Pattern: b + "/auth/logout", Auth: true, handle: s.logout},
		{Method: "GET", Pattern: b + "/me", Auth: true, handle: s.me},
		{Method: "GET", Pattern: b + "/sessions", Auth: true, Permission: api.PermSessionsView, handle: s.listSessions},
		{Method: "POST", Pattern: b + "/sessions/{id}/terminate", Auth: true, Permission: api.PermSessionsView, handle: s.terminateSession},
		{Method: "POST", Pattern: b + "/sessions/terminate-all", Auth: true, Permission: api.PermSessionsTerminateOrg, handle: s.terminateAll},
		// v1.2: every bulk termination needs terminate_org (in v1.1 these
		// needed only view, so a viewer could end the whole organization
		// 1,000 at a time), except signing oneself out everywhere.
		{Method: "POST", Pattern: b + "/sessions/terminate", Auth: true, Permission: api.PermSessionsTerminateOrg, handle: s.terminateSelected},
		{Method: "POST", Pattern: b + "/users/{id}/sessions/terminate", Auth: true, Permission: api.PermSessionsView,
			PermissionForOthers: api.PermSessionsTerminateOrg, handle: s.terminateUserSessions},
		{Method: "GET", Pattern: b + "/devices", Auth: true, Permission: api.PermSessionsView, handle: s.listDevices},
		{Method: "POST", Pattern: b + "/devices/{id}/untrust", Auth: true, Permission: api.PermDevicesRevokeTrust, handle: s.untrustDevice},
		{Method: "GET", Pattern: b + "/audit", Auth: true, Permission: api.PermSessionsView, handle: s.listAudit},
		{Method: "GET", Pattern: b + "/events", Auth: true, Permission: api.PermSessionsView, handle: s.streamEvents},
	}
}

// PermissionsOf is the role table: the permissions a role grants, sorted.
// Unknown roles grant nothing.
func PermissionsOf(role string) []string {
	var p []string
	switch role {
	case store.RoleSecurityAdmin:
		p = []string{api.PermSessionsView, api.PermSessionsTerminateOrg, api.PermDevicesRevokeTrust}
	case store.RoleAuditor:
		p = []string{api.PermSessionsView}
	}
	sort.Strings(p)
	return p
}

// caller is the authenticated principal of a request.
type caller struct {
	store.Principal
	perms     []string
	tokenHash []byte // for a long-lived request to authenticate again
}

func (c *caller) has(perm string) bool {
	for _, p := range c.perms {
		if p == perm {
			return true
		}
	}
	return false
}

// endpoint wraps a route's handler with authentication, authorization and
// error writing.
func (s *Server) endpoint(rt Route) http.Handler {
	lim := s.shed.limiterFor(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkContentType(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		// The body first, the slot after: a slow body holds no slot.
		r, bodyDone, err := s.readBody(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer bodyDone()
		if lim != nil {
			ip := ""
			if lim == s.shed.logins {
				ip = ipKey(s.clientIP(r))
			}
			release, busy := s.shed.admit(r.Context(), lim, ip)
			if busy != nil {
				s.writeError(w, r, busy)
				return
			}
			defer release()
		}
		var c *caller
		if rt.Auth {
			var err error
			if c, err = s.authenticate(r); err != nil {
				s.writeError(w, r, err)
				return
			}
			if rt.Permission != "" && !c.has(rt.Permission) {
				s.writeError(w, r, errorf(api.CodePermissionDenied, "this needs the permission %s", rt.Permission))
				return
			}
			if rt.PermissionForOthers != "" && r.PathValue("id") != c.User.ID && !c.has(rt.PermissionForOthers) {
				s.writeError(w, r, errorf(api.CodePermissionDenied, "this needs the permission %s unless it is your own account", rt.PermissionForOthers))
				return
			}
		}
		err = rt.handle(w, r, c)
		if r.Method != http.MethodGet && err == nil && c != nil {
			// Every route that writes is a POST: wake the caller's
			// organization's live streams to read the change order (a
			// request that changed nothing costs them one empty read). A
			// refused one wrote nothing, and must not let anyone who can
			// send a malformed sign-in make the hubs read the store. The
			// sign-in has no caller here; it wakes its own organization.
			s.notifier.Notify(context.WithoutCancel(r.Context()), c.Org.ID)
		}
		if err != nil {
			s.writeError(w, r, err)
		} else if rt.Method != "GET" {
			s.unwritable.Store(nil) // a write went through
		}
	})
}
