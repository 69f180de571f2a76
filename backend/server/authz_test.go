package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

func TestPermissionMatrix(t *testing.T) {
	type want map[string]int // role → status
	const (
		admin   = "security_admin"
		auditor = "auditor"
		member  = "member"
		anon    = "unauthenticated"
	)
	b := api.BasePath
	// Logout comes last: it ends the caller's session. A row with self
	// calls the route with the caller's own user ID as {id}.
	matrix := []struct {
		method, pattern string
		self            bool
		want            want
	}{
		{"GET", "/healthz", false, want{admin: 200, auditor: 200, member: 200, anon: 200}},
		{"POST", b + "/auth/login", false, want{admin: 200, auditor: 200, member: 200, anon: 200}},
		{"GET", b + "/me", false, want{admin: 200, auditor: 200, member: 200, anon: 401}},
		{"GET", b + "/sessions", false, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"GET", b + "/devices", false, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"GET", b + "/audit", false, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"GET", b + "/events", false, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"POST", b + "/sessions/{id}/terminate", false, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"POST", b + "/devices/{id}/untrust", false, want{admin: 200, auditor: 403, member: 403, anon: 401}},
		// v1.2: every bulk termination needs terminate_org (v1.1 let a
		// viewer end the whole organization 1,000 at a time)…
		{"POST", b + "/sessions/terminate", false, want{admin: 200, auditor: 403, member: 403, anon: 401}},
		{"POST", b + "/users/{id}/sessions/terminate", false, want{admin: 200, auditor: 403, member: 403, anon: 401}},
		{"POST", b + "/sessions/terminate-all", false, want{admin: 200, auditor: 403, member: 403, anon: 401}},
		// …but signing oneself out of one's other devices needs only view.
		{"POST", b + "/users/{id}/sessions/terminate", true, want{admin: 200, auditor: 200, member: 403, anon: 401}},
		{"POST", b + "/auth/logout", false, want{admin: 204, auditor: 204, member: 204, anon: 401}},
	}
	// Every route of the server is in the matrix, and nothing else; a route
	// that needs more for others than for oneself has a row of each, and
	// the rows' expectations follow the route's declared permissions.
	routes := map[string]server.Route{}
	for _, rt := range server.Routes() {
		routes[rt.Method+" "+rt.Pattern] = rt
	}
	rows := map[string]bool{}
	for _, m := range matrix {
		rt, ok := routes[m.method+" "+m.pattern]
		if !ok {
			t.Fatalf("matrix row %s %s is not a server route", m.method, m.pattern)
		}
		rows[fmt.Sprintf("%s %s %v", m.method, m.pattern, m.self)] = true
		need := []string{rt.Permission}
		if !m.self && rt.PermissionForOthers != "" {
			need = append(need, rt.PermissionForOthers)
		}
		for _, role := range []string{admin, auditor, member} {
			granted := true
			for _, perm := range need {
				granted = granted && (perm == "" || slices.Contains(server.PermissionsOf(role), perm))
			}
			if denied := m.want[role] == 403; denied == granted {
				t.Errorf("matrix row %s %s (self %v) wants %d for %s, but the route needs %v", m.method, m.pattern, m.self, m.want[role], role, need)
			}
		}
	}
	for key, rt := range routes {
		if !rows[key+" false"] || (rt.PermissionForOthers != "") != rows[key+" true"] {
			t.Errorf("route %s: matrix rows for others %v, for oneself %v", key, rows[key+" false"], rows[key+" true"])
		}
	}

	emails := map[string]string{admin: "admin@acme.test", auditor: "auditor@acme.test", member: "member@acme.test"}
	for _, role := range []string{admin, auditor, member, anon} {
		t.Run(role, func(t *testing.T) {
			p := platformtest.Start(t, platformtest.Options{})
			token, me := "", ""
			if role != anon {
				l := p.Login(t, "acme", emails[role])
				token, me = l.Token, l.User.ID
			}
			c := newClient(t, p, token)
			// Targets that exist in the caller's organization: a session of
			// someone else.
			var victim store.Session
			for _, s := range activeSessions(t, p, "acme") {
				if s.User.ID != me {
					victim = s
					break
				}
			}
			device := trustedDevice(t, p, "acme")
			for _, m := range matrix {
				path := strings.Replace(m.pattern, "{id}", victim.ID, 1)
				if strings.HasPrefix(m.pattern, b+"/devices/") {
					path = strings.Replace(m.pattern, "{id}", device.ID, 1)
				}
				if strings.HasPrefix(m.pattern, b+"/users/") {
					path = strings.Replace(m.pattern, "{id}", victim.User.ID, 1)
					if m.self && me != "" {
						path = strings.Replace(m.pattern, "{id}", me, 1)
					}
				}
				var body any
				switch m.pattern {
				case b + "/auth/login":
					body = api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}
				case b + "/sessions/terminate":
					body = api.TerminateSelectedRequest{IDs: []string{victim.ID}}
				}
				var res response
				if m.pattern == b+"/events" {
					res = c.openStream(path) // a 200 never ends on its own
				} else {
					res = c.do(m.method, path, body)
				}
				if res.status != m.want[role] {
					t.Errorf("%s %s (self %v) as %s: status %d, want %d (%s)", m.method, m.pattern, m.self, role, res.status, m.want[role], res.body)
				}
				if res.status >= 400 {
					wantCode := map[int]string{401: api.CodeUnauthenticated, 403: api.CodePermissionDenied}[res.status]
					if res.errCode() != wantCode {
						t.Errorf("%s %s as %s: code %q, want %q", m.method, m.pattern, role, res.errCode(), wantCode)
					}
				}
			}
		})
	}
}

func TestMeAndErrorsForUnknownRoutes(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	login := p.Login(t, "acme", "admin@acme.test")
	c := newClient(t, p, login.Token)
	var me api.Me
	c.do("GET", api.BasePath+"/me", nil).decode(t, 200, &me)
	if me.User.Email != "admin@acme.test" || me.Org.Slug != "acme" || me.Org.Name != "Acme Health" || me.SessionID != login.Session.ID {
		t.Errorf("me = %+v", me)
	}
	wantPerms := []string{api.PermDevicesRevokeTrust, api.PermSessionsTerminateOrg, api.PermSessionsView}
	if strings.Join(me.Permissions, ",") != strings.Join(wantPerms, ",") {
		t.Errorf("permissions = %v, want %v (sorted)", me.Permissions, wantPerms)
	}
	var mm api.Me
	newClient(t, p, p.Login(t, "acme", "member@acme.test").Token).do("GET", api.BasePath+"/me", nil).decode(t, 200, &mm)
	if mm.Permissions == nil || len(mm.Permissions) != 0 {
		t.Errorf("member permissions = %#v, want []", mm.Permissions)
	}

	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", 404, api.CodeNotFound},
		{"GET", api.BasePath + "/nope", 404, api.CodeNotFound},
		{"DELETE", api.BasePath + "/sessions", 405, api.CodeMethodNotAllowed},
		{"GET", api.BasePath + "/auth/login", 405, api.CodeMethodNotAllowed},
	} {
		res := c.do(tc.method, tc.path, nil)
		if res.status != tc.status || res.errCode() != tc.code {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, res.status, res.body, tc.status, tc.code)
		}
		if tc.status == 405 && res.header.Get("Allow") == "" {
			t.Errorf("%s %s: no Allow header", tc.method, tc.path)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, ct)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	ctx := context.Background()
	acme := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)

	for _, s := range acme.allSessions("status=all", 1000) {
		if !strings.HasSuffix(s.User.Email, "@acme.test") {
			t.Fatalf("acme admin sees session of %s", s.User.Email)
		}
	}
	for _, d := range acme.allDevices("", 1000) {
		if !strings.HasSuffix(d.User.Email, "@acme.test") {
			t.Fatalf("acme admin sees device of %s", d.User.Email)
		}
	}
	globexSessions := activeSessions(t, p, "globex")
	gs := globexSessions[0]
	gd := trustedDevice(t, p, "globex")

	// By ID: exactly like an unknown (well-formed) ID.
	unknownSession := "ses_" + strings.Repeat("a", 26)
	unknownDevice := "dev_" + strings.Repeat("a", 26)
	for _, path := range []string{
		"/sessions/" + gs.ID + "/terminate", "/sessions/" + unknownSession + "/terminate",
		"/devices/" + gd.ID + "/untrust", "/devices/" + unknownDevice + "/untrust",
	} {
		res := acme.do("POST", api.BasePath+path, nil)
		if res.status != 404 || res.errCode() != api.CodeNotFound {
			t.Errorf("POST %s = %d %s, want 404 not_found", path, res.status, res.body)
		}
	}
	// v1.1: another organization's user is 404 like an unknown one; its
	// sessions in a selection are not_found and stay active.
	unknownUser := "usr_" + strings.Repeat("a", 26)
	for _, id := range []string{gs.User.ID, unknownUser} {
		res := acme.do("POST", api.BasePath+"/users/"+id+"/sessions/terminate", nil)
		if res.status != 404 || res.errCode() != api.CodeNotFound {
			t.Errorf("sign out %s everywhere = %d %s, want 404 not_found", id, res.status, res.body)
		}
	}
	var sel api.TerminateSelectedResponse
	acme.do("POST", api.BasePath+"/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{gs.ID, unknownSession}}).decode(t, 200, &sel)
	if sel.Terminated != 0 || len(sel.NotFound) != 2 || sel.NotFound[0] != gs.ID || sel.NotFound[1] != unknownSession {
		t.Errorf("selecting globex's session from acme = %+v", sel)
	}
	if got, err := p.Store().GetSession(ctx, orgID(t, p, "globex"), gs.ID); err != nil || got.TerminatedAt != nil {
		t.Errorf("globex session after acme's selection: %+v %v", got, err)
	}
	var audited api.AuditList
	acme.do("GET", api.BasePath+"/audit?target_user_id="+gs.User.ID, nil).decode(t, 200, &audited)
	if len(audited.Items) != 0 {
		t.Errorf("acme audit filtered by a globex user = %+v", audited.Items)
	}
	// Filtering by another org's user finds nothing.
	var page api.SessionList
	acme.do("GET", api.BasePath+"/sessions?status=all&user_id="+gs.User.ID, nil).decode(t, 200, &page)
	if len(page.Items) != 0 {
		t.Errorf("user_id of globex user returned %d sessions", len(page.Items))
	}
	var dpage api.DeviceList
	acme.do("GET", api.BasePath+"/devices?q=globex", nil).decode(t, 200, &dpage)
	if len(dpage.Items) != 0 {
		t.Errorf("q=globex returned %d devices", len(dpage.Items))
	}

	// Bulk: terminate-all touches only acme.
	var n api.TerminateAllResponse
	acme.do("POST", api.BasePath+"/sessions/terminate-all", map[string]any{"reason": "incident 42"}).decode(t, 200, &n)
	if n.Terminated == 0 {
		t.Fatal("terminate-all ended nothing")
	}
	if got := len(activeSessions(t, p, "globex")); got != len(globexSessions) {
		t.Errorf("globex active sessions %d → %d after acme terminate-all", len(globexSessions), got)
	}
	if d, err := p.Store().GetDevice(ctx, orgID(t, p, "globex"), gd.ID); err != nil || !d.Trusted() {
		t.Errorf("globex device changed: %+v %v", d, err)
	}
	// globex's audit log does not show acme's action.
	var audit api.AuditList
	newClient(t, p, p.Login(t, "globex", "admin@globex.test").Token).do("GET", api.BasePath+"/audit", nil).decode(t, 200, &audit)
	if len(audit.Items) != 0 {
		t.Errorf("globex audit has %d events from acme", len(audit.Items))
	}
}

func TestTermination(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")
	victim, victimLogin := signedIn(t, p, "acme", "auditor@acme.test")
	victim.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)

	var s api.Session
	admin.do("POST", api.BasePath+"/sessions/"+victimLogin.Session.ID+"/terminate", map[string]string{"reason": "lost laptop"}).decode(t, 200, &s)
	if s.Status != api.StatusTerminated || s.TerminatedAt == nil || s.TerminatedBy == nil || s.TerminatedBy.Email != "admin@acme.test" || s.Current {
		t.Fatalf("terminated session = %+v", s)
	}
	// The very next request with its token is refused.
	if res := victim.do("GET", api.BasePath+"/me", nil); res.status != 401 || res.errCode() != api.CodeUnauthenticated {
		t.Fatalf("terminated token: %d %s", res.status, res.body)
	}
	// Again: unchanged, 200.
	var again api.Session
	admin.do("POST", api.BasePath+"/sessions/"+victimLogin.Session.ID+"/terminate", nil).decode(t, 200, &again)
	if !again.TerminatedAt.Equal(*s.TerminatedAt) || !again.UpdatedAt.Equal(s.UpdatedAt) {
		t.Errorf("re-terminate changed the session: %+v vs %+v", again, s)
	}

	// terminate-all with keep_current (default) keeps exactly the caller.
	globexBefore := len(activeSessions(t, p, "globex"))
	acmeBefore := len(activeSessions(t, p, "acme"))
	var n api.TerminateAllResponse
	admin.do("POST", api.BasePath+"/sessions/terminate-all", nil).decode(t, 200, &n)
	if n.Terminated != acmeBefore-1 {
		t.Errorf("terminated %d, want %d", n.Terminated, acmeBefore-1)
	}
	left := admin.allSessions("status=active", 100)
	if len(left) != 1 || left[0].ID != adminLogin.Session.ID || !left[0].Current {
		t.Errorf("active after terminate-all = %+v", left)
	}
	if got := len(activeSessions(t, p, "globex")); got != globexBefore {
		t.Errorf("globex active %d → %d", globexBefore, got)
	}

	// keep_current=false ends the caller too.
	other := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	other.do("POST", api.BasePath+"/sessions/terminate-all", map[string]bool{"keep_current": false}).decode(t, 200, &n)
	if n.Terminated != 2 {
		t.Errorf("keep_current=false terminated %d, want 2", n.Terminated)
	}
	if res := other.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("caller survived keep_current=false: %d", res.status)
	}

	// Logout ends the caller's own session.
	me := newClient(t, p, p.Login(t, "acme", "member@acme.test").Token)
	if res := me.do("POST", api.BasePath+"/auth/logout", nil); res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("logout = %d %s", res.status, res.body)
	}
	if res := me.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("after logout /me = %d", res.status)
	}
}
