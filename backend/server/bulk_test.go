package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// Sign out everywhere: every token of the person gets 401 on its next
// request; the caller's own session survives when the person is the caller
// (keep_current, the default) and ends with keep_current false.
func TestSignOutEverywhere(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	adminLogin := p.Login(t, "acme", "admin@acme.test")
	admin := newClient(t, p, adminLogin.Token)
	var victims []*client
	for range 3 {
		victims = append(victims, newClient(t, p, p.Login(t, "acme", "auditor@acme.test").Token))
	}
	bystander := newClient(t, p, p.Login(t, "acme", "member@acme.test").Token)
	auditor := p.Login(t, "acme", "auditor@acme.test").User
	before := len(admin.allSessions("user_id="+auditor.ID, 100))
	if before < 3 {
		t.Fatalf("auditor has %d active sessions", before)
	}

	var n api.TerminateAllResponse
	admin.do("POST", api.BasePath+"/users/"+auditor.ID+"/sessions/terminate", map[string]string{"reason": "phished"}).decode(t, 200, &n)
	if n.Terminated != before {
		t.Errorf("terminated %d, want %d", n.Terminated, before)
	}
	for i, v := range victims {
		if res := v.do("GET", api.BasePath+"/me", nil); res.status != 401 || res.errCode() != api.CodeUnauthenticated {
			t.Errorf("victim token %d after sign-out everywhere: %d %s", i, res.status, res.body)
		}
	}
	for _, c := range []*client{admin, bystander} {
		if res := c.do("GET", api.BasePath+"/me", nil); res.status != 200 {
			t.Errorf("a token of someone else stopped working: %d", res.status)
		}
	}
	if left := admin.allSessions("user_id="+auditor.ID, 100); len(left) != 0 {
		t.Errorf("auditor still has %d active sessions", len(left))
	}
	var audit api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=1", nil).decode(t, 200, &audit)
	e := audit.Items[0]
	if e.Action != api.ActionUserSessionsTerminate || e.TargetID == nil || *e.TargetID != auditor.ID || e.TargetUser == nil ||
		e.TargetUser.Email != "auditor@acme.test" || e.Count != before || e.Reason != "phished" || e.Actor.Email != "admin@acme.test" {
		t.Errorf("audit event = %+v", e)
	}

	// Signing yourself out everywhere keeps the session you act from…
	other := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	me := adminLogin.User.ID
	admin.do("POST", api.BasePath+"/users/"+me+"/sessions/terminate", nil).decode(t, 200, &n)
	if n.Terminated < 1 {
		t.Errorf("own sign-out ended %d", n.Terminated)
	}
	if res := other.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("another session of mine survived: %d", res.status)
	}
	left := admin.allSessions("user_id="+me, 100)
	if len(left) != 1 || left[0].ID != adminLogin.Session.ID || !left[0].Current {
		t.Errorf("after keeping my own session: %+v", left)
	}
	// …unless asked not to.
	admin.do("POST", api.BasePath+"/users/"+me+"/sessions/terminate", map[string]bool{"keep_current": false}).decode(t, 200, &n)
	if n.Terminated != 1 {
		t.Errorf("keep_current=false ended %d, want 1", n.Terminated)
	}
	if res := admin.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("my session survived keep_current=false: %d", res.status)
	}
}

// Terminate selected: up to 1,000 IDs, duplicates once, other orgs' and
// unknown IDs in not_found, already ended ones neither; the ended tokens get
// 401 and the rest keep working.
func TestTerminateSelected(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	adminLogin := p.Login(t, "acme", "admin@acme.test")
	admin := newClient(t, p, adminLogin.Token)
	l1, l2, l3 := p.Login(t, "acme", "auditor@acme.test"), p.Login(t, "acme", "member@acme.test"), p.Login(t, "acme", "member@acme.test")
	globex := activeSessions(t, p, "globex")[0]
	admin.do("POST", api.BasePath+"/sessions/"+l3.Session.ID+"/terminate", nil).decode(t, 200, nil)

	ids := []string{l1.Session.ID, l2.Session.ID, l1.Session.ID, l3.Session.ID, globex.ID}
	unknown := "ses_" + strings.Repeat("z", 26)
	for len(ids) < api.MaxSelected {
		ids = append(ids, unknown) // the limit is on the list, duplicates included
	}
	var res api.TerminateSelectedResponse
	admin.do("POST", api.BasePath+"/sessions/terminate", api.TerminateSelectedRequest{IDs: ids, Reason: "cleanup"}).decode(t, 200, &res)
	if res.Terminated != 2 || !slices.Equal(res.NotFound, []string{globex.ID, unknown}) {
		t.Errorf("terminate selected = %+v, want 2 and [globex, unknown]", res)
	}
	for _, tok := range []string{l1.Token, l2.Token} {
		if r := newClient(t, p, tok).do("GET", api.BasePath+"/me", nil); r.status != 401 {
			t.Errorf("selected session's token still works: %d", r.status)
		}
	}
	if r := admin.do("GET", api.BasePath+"/me", nil); r.status != 200 {
		t.Errorf("caller's token: %d", r.status)
	}
	var audit api.AuditList
	admin.do("GET", api.BasePath+"/audit?action="+api.ActionSessionsTerminateSelected, nil).decode(t, 200, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Count != 2 || audit.Items[0].TargetID != nil || audit.Items[0].TargetUser != nil ||
		audit.Items[0].Reason != "cleanup" {
		t.Errorf("audit = %+v", audit.Items)
	}
	// Nothing to end: 200, nothing found missing.
	admin.do("POST", api.BasePath+"/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{l1.Session.ID}}).decode(t, 200, &res)
	if res.Terminated != 0 || res.NotFound == nil || len(res.NotFound) != 0 {
		t.Errorf("again = %+v, want 0 and [] (not null)", res)
	}
}

// The audit log names people and devices, and filters by action, actor,
// target and text; filters combine with paging.
func TestAuditNamesAndFilters(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	adminLogin := p.Login(t, "acme", "admin@acme.test")
	admin := newClient(t, p, adminLogin.Token)
	auditorLogin := p.Login(t, "acme", "auditor@acme.test")
	auditor := newClient(t, p, auditorLogin.Token)
	victim := p.Login(t, "acme", "member@acme.test")
	device := trustedDevice(t, p, "acme")
	auditor.do("POST", api.BasePath+"/sessions/"+victim.Session.ID+"/terminate", map[string]string{"reason": "Suspicious IP " + strings.Repeat("long reason ", 30)}).decode(t, 200, nil)
	admin.do("POST", api.BasePath+"/devices/"+device.ID+"/untrust", map[string]string{"reason": "lost phone"}).decode(t, 200, nil)

	get := func(q string) []api.AuditEvent {
		var l api.AuditList
		admin.do("GET", api.BasePath+"/audit?"+q, nil).decode(t, 200, &l)
		return l.Items
	}
	all := get("")
	var term, untrust *api.AuditEvent
	for i := range all {
		switch {
		case all[i].Action == api.ActionSessionTerminate && all[i].TargetID != nil && *all[i].TargetID == victim.Session.ID:
			term = &all[i]
		case all[i].Action == api.ActionDeviceUntrust && all[i].TargetID != nil && *all[i].TargetID == device.ID:
			untrust = &all[i]
		}
	}
	if term == nil || untrust == nil {
		t.Fatalf("events not found in %+v", all)
	}
	if term.TargetUser == nil || term.TargetUser.Email != "member@acme.test" || term.TargetLabel != victim.Session.Client+", "+victim.Session.IP {
		t.Errorf("session event target = %+v %q", term.TargetUser, term.TargetLabel)
	}
	if len(term.Reason) < 300 {
		t.Errorf("long reason cut to %d bytes", len(term.Reason))
	}
	if untrust.TargetUser == nil || untrust.TargetUser.ID != device.User.ID || untrust.TargetLabel != device.Name {
		t.Errorf("device event target = %+v %q", untrust.TargetUser, untrust.TargetLabel)
	}
	for _, tc := range []struct {
		query string
		want  func(e api.AuditEvent) bool
	}{
		{"action=" + api.ActionDeviceUntrust, func(e api.AuditEvent) bool { return e.Action == api.ActionDeviceUntrust }},
		{"actor_id=" + auditorLogin.User.ID, func(e api.AuditEvent) bool { return e.Actor.ID == auditorLogin.User.ID }},
		{"target_user_id=" + victim.User.ID, func(e api.AuditEvent) bool { return e.TargetUser != nil && e.TargetUser.ID == victim.User.ID }},
		{"q=" + url.QueryEscape("SUSPICIOUS ip"), func(e api.AuditEvent) bool { return strings.Contains(e.Reason, "Suspicious IP") }},
		{"q=" + url.QueryEscape(victim.Session.IP) + "&actor_id=" + auditorLogin.User.ID, func(e api.AuditEvent) bool {
			return e.Actor.ID == auditorLogin.User.ID && strings.Contains(e.TargetLabel, victim.Session.IP)
		}},
	} {
		got := get(tc.query)
		if len(got) == 0 {
			t.Errorf("%s matched nothing", tc.query)
		}
		for _, e := range got {
			if !tc.want(e) {
				t.Errorf("%s matched %+v", tc.query, e)
			}
		}
	}
	if got := get("action=no.such.action"); len(got) != 0 {
		t.Errorf("unknown action matched %d", len(got))
	}
	// A filtered log pages like the whole one.
	var walked []string
	cursor := ""
	for {
		var l api.AuditList
		q := "limit=1&target_user_id=" + victim.User.ID
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		admin.do("GET", api.BasePath+"/audit?"+q, nil).decode(t, 200, &l)
		for _, e := range l.Items {
			walked = append(walked, e.ID)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	var want []string
	for _, e := range get("target_user_id=" + victim.User.ID) {
		want = append(want, e.ID)
	}
	if !slices.Equal(walked, want) {
		t.Errorf("paged %v, want %v", walked, want)
	}
}
