package server_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// Sign out everywhere: every token of the person gets 401 on its next
// request; the caller's own session survives when the person is the caller
// (keep_current, the default) and ends with keep_current false.
func TestSignOutEverywhere(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")
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
	admin, _ := signedIn(t, p, "acme", "admin@acme.test")
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
	admin, _ := signedIn(t, p, "acme", "admin@acme.test")
	auditor, auditorLogin := signedIn(t, p, "acme", "auditor@acme.test")
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

// Issue 18, finding 1 (black-box, as it was found): a view-only holder (the
// demo auditor) lists the organization's active sessions and ends them by
// ID, and signs the security admin out everywhere. From v1.2 both are 403
// permission_denied, nothing ends and nothing is audited; the auditor can
// still end one session at a time and sign themself out of their other
// devices.
func TestViewerCannotTerminateInBulk(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")
	auditor, auditorLogin := signedIn(t, p, "acme", "auditor@acme.test")
	auditorElsewhere := newClient(t, p, p.Login(t, "acme", "auditor@acme.test").Token)
	var auditBefore api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=1000", nil).decode(t, 200, &auditBefore)

	active := auditor.allSessions("status=active", 1000)
	var ids []string
	for _, s := range active {
		ids = append(ids, s.ID)
	}
	for start := 0; start < len(ids); start += api.MaxSelected {
		batch := ids[start:min(start+api.MaxSelected, len(ids))]
		res := auditor.do("POST", api.BasePath+"/sessions/terminate", api.TerminateSelectedRequest{IDs: batch, Reason: "x"})
		if res.status != 403 || res.errCode() != api.CodePermissionDenied {
			t.Errorf("auditor ending %d chosen sessions: %d %s, want 403 permission_denied", len(batch), res.status, res.body)
		}
	}
	for _, body := range []any{nil, map[string]bool{"keep_current": false}} {
		res := auditor.do("POST", api.BasePath+"/users/"+adminLogin.User.ID+"/sessions/terminate", body)
		if res.status != 403 || res.errCode() != api.CodePermissionDenied {
			t.Errorf("auditor signing the admin out everywhere (%v): %d %s, want 403 permission_denied", body, res.status, res.body)
		}
	}
	if res := admin.do("GET", api.BasePath+"/me", nil); res.status != 200 {
		t.Fatalf("the admin's token after the attack: %d %s", res.status, res.body)
	}
	if left := auditor.allSessions("status=active", 1000); len(left) != len(active) {
		t.Errorf("%d active sessions before the attack, %d after", len(active), len(left))
	}
	var auditAfter api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=1000", nil).decode(t, 200, &auditAfter)
	if len(auditAfter.Items) != len(auditBefore.Items) {
		t.Errorf("the refused attack added %d audit events", len(auditAfter.Items)-len(auditBefore.Items))
	}

	// Signing oneself out of one's other devices needs only view.
	var n api.TerminateAllResponse
	auditor.do("POST", api.BasePath+"/users/"+auditorLogin.User.ID+"/sessions/terminate", nil).decode(t, 200, &n)
	if n.Terminated < 1 {
		t.Errorf("the auditor's own sign-out everywhere ended %d", n.Terminated)
	}
	if res := auditorElsewhere.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("the auditor's other session survived: %d", res.status)
	}
	for who, c := range map[string]*client{"auditor": auditor, "admin": admin} {
		if res := c.do("GET", api.BasePath+"/me", nil); res.status != 200 {
			t.Errorf("the %s's token after the auditor's own sign-out: %d", who, res.status)
		}
	}
	// One session at a time still needs only view.
	victim := p.Login(t, "acme", "member@acme.test")
	auditor.do("POST", api.BasePath+"/sessions/"+victim.Session.ID+"/terminate", nil).decode(t, 200, nil)
}

// v1.2: the audit event of a bulk end lists the sessions it ended
// (target_ids, in ID order, the first 1,000 of a terminate-all), in GET
// /audit and in the event stream; single-target events have [] (never
// null). Finding 6: an end that ended nothing answers 200 with 0 and is
// neither recorded nor pushed to streams.
func TestBulkEndsAuditTheirSessionsAndNoOpsNothing(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")
	var all api.TerminateAllResponse
	admin.do("POST", api.BasePath+"/sessions/terminate-all", map[string]string{"reason": "sweep"}).decode(t, 200, &all)
	if all.Terminated == 0 {
		t.Fatal("terminate-all ended nothing")
	}
	s := openEvents(t, p, adminLogin.Token, "")
	s.next(2 * time.Second) // the id-only start block

	v1, v2 := p.Login(t, "acme", "member@acme.test"), p.Login(t, "acme", "member@acme.test")
	unknown := "ses_" + strings.Repeat("q", 26)
	var sel api.TerminateSelectedResponse
	admin.do("POST", api.BasePath+"/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{v2.Session.ID, unknown, v1.Session.ID}}).decode(t, 200, &sel)
	if sel.Terminated != 2 {
		t.Fatalf("terminate selected = %+v", sel)
	}
	wantIDs := []string{v1.Session.ID, v2.Session.ID}
	slices.Sort(wantIDs)
	got := s.until(2*time.Second, func(e sseEvent) bool { return e.Event == "audit" })
	var pushed api.AuditEvent
	if err := json.Unmarshal([]byte(got[len(got)-1].Data), &pushed); err != nil || pushed.Action != api.ActionSessionsTerminateSelected ||
		!slices.Equal(pushed.TargetIDs, wantIDs) {
		t.Errorf("streamed audit event %s (%v), want target_ids %v", got[len(got)-1].Data, err, wantIDs)
	}

	// Nothing to end: 200 with 0, every time.
	for _, tc := range []struct {
		what, path string
		body       any
	}{
		{"unknown ids", "/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{unknown}}},
		{"already ended ids", "/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{v1.Session.ID}}},
		{"a repeated sign-out everywhere", "/users/" + v1.User.ID + "/sessions/terminate", nil},
		{"terminate-all with nothing left", "/sessions/terminate-all", nil},
	} {
		var res struct {
			Terminated *int `json:"terminated"`
		}
		admin.do("POST", api.BasePath+tc.path, tc.body).decode(t, 200, &res)
		if res.Terminated == nil || *res.Terminated != 0 {
			t.Errorf("%s: terminated %v, want 0", tc.what, res.Terminated)
		}
	}
	// The next audit event the stream gets is that of the next action that
	// ends something, with [] for its single target.
	v3 := p.Login(t, "acme", "member@acme.test")
	admin.do("POST", api.BasePath+"/sessions/"+v3.Session.ID+"/terminate", nil).decode(t, 200, nil)
	got = s.until(2*time.Second, func(e sseEvent) bool { return e.Event == "audit" })
	if last := got[len(got)-1].Data; !strings.Contains(last, `"action":"session.terminate"`) || !strings.Contains(last, `"target_ids":[]`) {
		t.Errorf("the audit event streamed after the no-ops is %s, want the single termination with target_ids []", last)
	}

	var audit api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=10", nil).decode(t, 200, &audit)
	var actions []string
	for _, e := range audit.Items {
		actions = append(actions, e.Action)
	}
	wantActions := []string{api.ActionSessionTerminate, api.ActionSessionsTerminateSelected, api.ActionSessionsTerminateAll}
	if !slices.Equal(actions, wantActions) {
		t.Fatalf("audit log = %v, want %v (no zero-count events)", actions, wantActions)
	}
	if e := audit.Items[1]; !slices.Equal(e.TargetIDs, wantIDs) || e.Count != 2 {
		t.Errorf("listed selection event = %+v, want target_ids %v", e, wantIDs)
	}
	if e := audit.Items[2]; e.Count != all.Terminated || len(e.TargetIDs) != min(all.Terminated, api.MaxTargetIDs) ||
		!slices.IsSorted(e.TargetIDs) || slices.Contains(e.TargetIDs, adminLogin.Session.ID) {
		t.Errorf("terminate-all event: count %d, %d target_ids, want %d and min(count, %d) in ID order without the kept session",
			e.Count, len(e.TargetIDs), all.Terminated, api.MaxTargetIDs)
	}
}
