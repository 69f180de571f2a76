package storetest

// The v1.1 bulk ends (sign a user out everywhere, end chosen sessions) and
// audit targets and filters, on every store.

import (
	"context"
	"slices"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// BulkFixture is two organizations: in "a" the users Alice and Bob, in "b"
// Carol (exported for a store's own tests of the same rules).
type BulkFixture struct {
	A, B              store.Org
	Alice, Bob, Carol store.User
}

// ArrangeBulkFixture creates the BulkFixture in s.
func ArrangeBulkFixture(t *testing.T, s store.Store) BulkFixture {
	t.Helper()
	ctx := context.Background()
	var f BulkFixture
	var err error
	if f.A, err = s.CreateOrg(ctx, "a", "A"); err != nil {
		t.Fatal(err)
	}
	if f.B, err = s.CreateOrg(ctx, "b", "B"); err != nil {
		t.Fatal(err)
	}
	mk := func(org store.Org, email, name string) store.User {
		u, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: email, Name: name, Role: store.RoleMember, PasswordHash: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.Alice = mk(f.A, "alice@a.test", "Alice Adams")
	f.Bob = mk(f.A, "bob@a.test", "Bob Brown")
	f.Carol = mk(f.B, "carol@b.test", "Carol Clark")
	return f
}

// SignInAs creates a session of u from a new device; idle sets how long it
// lives.
func SignInAs(t *testing.T, s store.Store, u store.User, client, ip string, idle time.Duration) (store.Session, store.Device) {
	t.Helper()
	ses, dev, err := s.SignIn(context.Background(), store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")),
		DeviceName: client, DevicePlatform: "Linux", IP: ip, UserAgent: "UA " + client, Client: client,
		Idle: idle, Absolute: 2 * idle})
	if err != nil {
		t.Fatal(err)
	}
	return ses, dev
}

func auditOf(t *testing.T, s store.Store, orgID string, f store.AuditFilter) []store.AuditEvent {
	t.Helper()
	f.Limit = 1000
	page, err := s.ListAudit(context.Background(), orgID, f)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func testBulkEnds(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	ctx := context.Background()
	f := ArrangeBulkFixture(t, s)
	a1, _ := SignInAs(t, s, f.Alice, "Firefox 133 on Linux", "192.0.2.1", time.Hour)
	a2, _ := SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "2001:db8::1", time.Hour)
	a3, _ := SignInAs(t, s, f.Alice, "Safari on iOS", "192.0.2.3", time.Hour)
	aOld, _ := SignInAs(t, s, f.Alice, "Old", "192.0.2.4", time.Nanosecond) // expires at once
	b1, _ := SignInAs(t, s, f.Bob, "Edge 131 on Windows", "192.0.2.5", time.Hour)
	b2, _ := SignInAs(t, s, f.Bob, "Firefox 133 on macOS", "192.0.2.6", time.Hour)
	c1, _ := SignInAs(t, s, f.Carol, "Chrome 131 on Linux", "192.0.2.7", time.Hour)
	time.Sleep(time.Millisecond) // aOld is now expired
	byBob := store.Actor{UserID: f.Bob.ID, Reason: "phishing"}

	// Sign Alice out everywhere while she keeps the session she acts from.
	n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, a3.ID, store.Actor{UserID: f.Alice.ID, Reason: "mine"})
	if err != nil || n != 2 {
		t.Fatalf("terminate alice's sessions = %d %v, want 2", n, err)
	}
	for _, tc := range []struct {
		id    string
		ended bool
	}{{a1.ID, true}, {a2.ID, true}, {a3.ID, false}, {aOld.ID, false}, {b1.ID, false}} {
		got, err := s.GetSession(ctx, f.A.ID, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if (got.TerminatedAt != nil) != tc.ended {
			t.Errorf("session %s terminated %v, want %v", got.Client, got.TerminatedAt, tc.ended)
		}
		if tc.ended && (got.TerminatedBy == nil || got.TerminatedBy.ID != f.Alice.ID) {
			t.Errorf("session %s terminated by %+v", got.Client, got.TerminatedBy)
		}
	}
	ev := auditOf(t, s, f.A.ID, store.AuditFilter{})
	if len(ev) != 1 || ev[0].Action != store.ActionUserSessionsTerminate || ev[0].TargetID != f.Alice.ID ||
		ev[0].TargetUser == nil || ev[0].TargetUser.Email != "alice@a.test" || ev[0].Count != 2 || ev[0].Reason != "mine" {
		t.Fatalf("audit after sign-out everywhere = %+v", ev)
	}
	// The ended sessions carry the event's time: that is how a client finds
	// why a session ended.
	if got, _ := s.GetSession(ctx, f.A.ID, a1.ID); !got.TerminatedAt.Equal(ev[0].At) {
		t.Errorf("terminated_at %v, audit at %v", got.TerminatedAt, ev[0].At)
	}
	// Another organization's user, or an unknown one, is NotFound and changes nothing.
	for _, id := range []string{f.Carol.ID, store.NewID(store.PrefixUser)} {
		if _, err := s.TerminateUserSessions(ctx, f.A.ID, id, "", byBob); store.ErrorCode(err) != store.ENotFound {
			t.Errorf("terminate user %s of another org: %v, want not found", id, err)
		}
	}
	if got, _ := s.GetSession(ctx, f.B.ID, c1.ID); got.TerminatedAt != nil {
		t.Error("carol's session was ended through org a")
	}
	// Nothing left to end records nothing (v1.2; see ZeroEffectEndsAreNotAudited).
	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, a3.ID, byBob); err != nil || n != 0 {
		t.Errorf("again = %d %v", n, err)
	}
	if ev := auditOf(t, s, f.A.ID, store.AuditFilter{}); len(ev) != 1 {
		t.Errorf("audit after a no-op sign-out = %+v", ev)
	}

	// End chosen sessions: duplicates count once, ended and expired count as
	// neither, another org's and unknown IDs are not found (in order, once).
	unknown := store.NewID(store.PrefixSession)
	sel, err := s.TerminateSessions(ctx, f.A.ID, []string{b1.ID, c1.ID, b1.ID, a1.ID, aOld.ID, unknown, c1.ID, a3.ID}, byBob)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Terminated != 2 || !slices.Equal(sel.NotFound, []string{c1.ID, unknown}) {
		t.Errorf("terminate selected = %+v, want 2 ended, not found [carol's, unknown]", sel)
	}
	for _, id := range []string{b1.ID, a3.ID} {
		if got, _ := s.GetSession(ctx, f.A.ID, id); got.TerminatedAt == nil || got.TerminatedBy.ID != f.Bob.ID {
			t.Errorf("selected session %s not ended by bob: %+v", got.Client, got.TerminatedBy)
		}
	}
	if got, _ := s.GetSession(ctx, f.A.ID, b2.ID); got.TerminatedAt != nil {
		t.Error("an unselected session was ended")
	}
	if got, _ := s.GetSession(ctx, f.B.ID, c1.ID); got.TerminatedAt != nil {
		t.Error("carol's session was ended by a selection in org a")
	}
	if got, _ := s.GetSession(ctx, f.A.ID, aOld.ID); got.TerminatedAt != nil {
		t.Error("an expired session was marked terminated")
	}
	ev = auditOf(t, s, f.A.ID, store.AuditFilter{Action: store.ActionSessionsTerminateSelected})
	if len(ev) != 1 || ev[0].Count != 2 || ev[0].TargetID != "" || ev[0].TargetUser != nil || ev[0].Actor.ID != f.Bob.ID {
		t.Errorf("selected audit = %+v (two people's sessions: no target user)", ev)
	}
	// One person's sessions only: the event names that person.
	if sel, err := s.TerminateSessions(ctx, f.A.ID, []string{b2.ID}, byBob); err != nil || sel.Terminated != 1 || len(sel.NotFound) != 0 {
		t.Fatalf("terminate one = %+v %v", sel, err)
	}
	ev = auditOf(t, s, f.A.ID, store.AuditFilter{Action: store.ActionSessionsTerminateSelected})
	if len(ev) != 2 || ev[0].TargetUser == nil || ev[0].TargetUser.ID != f.Bob.ID {
		t.Errorf("one person's selection audit = %+v", ev[0])
	}
	if ev := auditOf(t, s, f.B.ID, store.AuditFilter{}); len(ev) != 0 {
		t.Errorf("org b has %d audit events from org a", len(ev))
	}
}

func testAuditTargetsAndFilters(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	ctx := context.Background()
	f := ArrangeBulkFixture(t, s)
	a1, ad := SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "203.0.113.10", time.Hour)
	_, bd := SignInAs(t, s, f.Bob, "Firefox 133 on Linux", "192.0.2.2", time.Hour)
	// Bob's device is trusted at his next sign-in from it.
	if _, _, err := s.SignIn(ctx, store.SignIn{UserID: f.Bob.ID, TokenHash: []byte(store.NewID("tok")), DeviceID: bd.ID,
		TrustDevice: true, TrustSecretHash: []byte("h"), IP: "192.0.2.2", Idle: time.Hour, Absolute: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TerminateSession(ctx, f.A.ID, a1.ID, store.Actor{UserID: f.Bob.ID, Reason: "Lost LAPTOP at the airport"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UntrustDevice(ctx, f.A.ID, bd.ID, store.Actor{UserID: f.Alice.ID, Reason: "routine"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TerminateAll(ctx, f.A.ID, "", store.Actor{UserID: f.Alice.ID, Reason: "incident 7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPassword(ctx, f.Bob.ID, []byte("new"), store.Actor{Reason: "helpdesk"}); err != nil {
		t.Fatal(err)
	}
	_ = ad

	all := auditOf(t, s, f.A.ID, store.AuditFilter{})
	if len(all) != 4 {
		t.Fatalf("audit = %+v", all)
	}
	byAction := map[string]store.AuditEvent{}
	for _, e := range all {
		byAction[e.Action] = e
	}
	targetEmail := func(e store.AuditEvent) string {
		if e.TargetUser == nil {
			return ""
		}
		return e.TargetUser.Email
	}
	for _, w := range []struct{ action, targetEmail, label string }{
		{store.ActionSessionTerminate, "alice@a.test", "Chrome 131 on Windows, 203.0.113.10"},
		{store.ActionDeviceUntrust, "bob@a.test", "Firefox 133 on Linux"},
		{store.ActionSessionsTerminateAll, "", ""},
		{store.ActionUserPasswordReset, "bob@a.test", ""},
	} {
		e := byAction[w.action]
		if targetEmail(e) != w.targetEmail || e.TargetLabel != w.label {
			t.Errorf("%s: target %q label %q, want %q %q", w.action, targetEmail(e), e.TargetLabel, w.targetEmail, w.label)
		}
	}

	ids := func(evs []store.AuditEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Action)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []string // actions, newest first
	}{
		{"action", store.AuditFilter{Action: store.ActionDeviceUntrust}, []string{store.ActionDeviceUntrust}},
		{"unknown action", store.AuditFilter{Action: "no.such"}, nil},
		{"actor", store.AuditFilter{ActorID: f.Alice.ID}, []string{store.ActionSessionsTerminateAll, store.ActionDeviceUntrust}},
		{"system actor", store.AuditFilter{ActorID: store.SystemActorID}, []string{store.ActionUserPasswordReset}},
		{"target user", store.AuditFilter{TargetUserID: f.Bob.ID}, []string{store.ActionUserPasswordReset, store.ActionDeviceUntrust}},
		{"q reason, any case", store.AuditFilter{Query: "lost laptop"}, []string{store.ActionSessionTerminate}},
		{"q label", store.AuditFilter{Query: "203.0.113"}, []string{store.ActionSessionTerminate}},
		{"q actor name", store.AuditFilter{Query: "bob brown"}, []string{store.ActionUserPasswordReset, store.ActionDeviceUntrust, store.ActionSessionTerminate}},
		{"q target email", store.AuditFilter{Query: "alice@"}, []string{store.ActionSessionsTerminateAll, store.ActionDeviceUntrust, store.ActionSessionTerminate}},
		{"q system actor name", store.AuditFilter{Query: "command line"}, []string{store.ActionUserPasswordReset}},
		{"q LIKE characters are plain", store.AuditFilter{Query: "%"}, nil},
		{"combined", store.AuditFilter{ActorID: f.Alice.ID, TargetUserID: f.Bob.ID, Query: "ROUTINE"}, []string{store.ActionDeviceUntrust}},
		{"other org's user", store.AuditFilter{TargetUserID: f.Carol.ID}, nil},
	} {
		if got := ids(auditOf(t, s, f.A.ID, tc.f)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Filters page like the whole log: newest first, no repeats, no gaps.
	var walked []string
	var after *store.Key
	for {
		page, err := s.ListAudit(ctx, f.A.ID, store.AuditFilter{Query: "a.test", Limit: 1, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			walked = append(walked, e.ID)
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	var want []string
	for _, e := range auditOf(t, s, f.A.ID, store.AuditFilter{Query: "a.test"}) {
		want = append(want, e.ID)
	}
	if len(want) != 4 || !slices.Equal(walked, want) {
		t.Errorf("paged %v, want %v", walked, want)
	}
}

// sortedIDs are the sessions' IDs in ID order, as TargetIDs lists them.
func sortedIDs(ss ...store.Session) []string {
	ids := make([]string, 0, len(ss))
	for _, x := range ss {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	return ids
}

// v1.2: the event of each bulk end names the sessions it ended (at most
// api.MaxTargetIDs, in ID order), in the log and in the change feed live
// streams read; every other event has an empty, non-nil list.
func testBulkEndsNameTheirSessions(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := ArrangeBulkFixture(t, s)
	a1, _ := SignInAs(t, s, f.Alice, "Firefox 133 on Linux", "192.0.2.1", time.Hour)
	a2, _ := SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "192.0.2.2", time.Hour)
	a3, _ := SignInAs(t, s, f.Alice, "Safari on iOS", "192.0.2.3", time.Hour)
	b1, _ := SignInAs(t, s, f.Bob, "Edge 131 on Windows", "192.0.2.5", time.Hour)
	b2, _ := SignInAs(t, s, f.Bob, "Firefox 133 on macOS", "192.0.2.6", time.Hour)
	c1, _ := SignInAs(t, s, f.Carol, "Chrome 131 on Linux", "192.0.2.7", time.Hour)
	byBob := store.Actor{UserID: f.Bob.ID, Reason: "r"}
	head, err := s.ChangeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	latest := func(action string) store.AuditEvent {
		t.Helper()
		ev := auditOf(t, s, f.A.ID, store.AuditFilter{Action: action})
		if len(ev) == 0 {
			t.Fatalf("no %s event", action)
		}
		return ev[0]
	}

	// Sign-out everywhere: the person's sessions but the kept one.
	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, a3.ID, byBob); err != nil || n != 2 {
		t.Fatalf("sign out alice = %d %v", n, err)
	}
	if got, want := latest(store.ActionUserSessionsTerminate).TargetIDs, sortedIDs(a1, a2); !slices.Equal(got, want) {
		t.Errorf("sign-out everywhere target_ids = %v, want %v", got, want)
	}
	// Chosen sessions: only those this action ended, not the already ended,
	// another organization's or unknown ones.
	sel, err := s.TerminateSessions(ctx, f.A.ID, []string{a1.ID, b1.ID, c1.ID, store.NewID(store.PrefixSession), b1.ID}, byBob)
	if err != nil || sel.Terminated != 1 {
		t.Fatalf("terminate selected = %+v %v", sel, err)
	}
	if got := latest(store.ActionSessionsTerminateSelected).TargetIDs; !slices.Equal(got, []string{b1.ID}) {
		t.Errorf("selected target_ids = %v, want [%s]", got, b1.ID)
	}
	// One session, a device: no list.
	if _, err := s.TerminateSession(ctx, f.A.ID, b2.ID, byBob); err != nil {
		t.Fatal(err)
	}
	_, bd := SignInAs(t, s, f.Bob, "Trusted", "192.0.2.8", time.Hour)
	if _, _, err := s.SignIn(ctx, store.SignIn{UserID: f.Bob.ID, TokenHash: []byte(store.NewID("tok")), DeviceID: bd.ID,
		TrustDevice: true, TrustSecretHash: []byte("h"), IP: "192.0.2.8", Idle: time.Hour, Absolute: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UntrustDevice(ctx, f.A.ID, bd.ID, byBob); err != nil {
		t.Fatal(err)
	}

	// Terminate-all of more than api.MaxTargetIDs sessions names the first
	// api.MaxTargetIDs in ID order; the kept one and other organizations'
	// are never among them.
	bulkSessions(t, s, f.A.ID, f.Bob.ID, api.MaxTargetIDs+5, time.Now())
	active := allSessions(t, s, f.A.ID, store.SessionFilter{ActiveOnly: true, Now: time.Now()})
	var ending []store.Session
	for _, x := range active {
		if x.ID != a3.ID {
			ending = append(ending, x)
		}
	}
	if len(ending) < api.MaxTargetIDs+5 {
		t.Fatalf("%d sessions to end", len(ending))
	}
	n, err := s.TerminateAll(ctx, f.A.ID, a3.ID, byBob)
	if err != nil || n != len(ending) {
		t.Fatalf("terminate all = %d %v, want %d", n, err, len(ending))
	}
	all := latest(store.ActionSessionsTerminateAll)
	if want := sortedIDs(ending...)[:api.MaxTargetIDs]; all.Count != n || !slices.Equal(all.TargetIDs, want) {
		t.Errorf("terminate-all: count %d, %d target_ids (first %v), want %d and the first %d in ID order",
			all.Count, len(all.TargetIDs), all.TargetIDs[:min(3, len(all.TargetIDs))], n, api.MaxTargetIDs)
	}
	if slices.Contains(all.TargetIDs, a3.ID) || slices.Contains(all.TargetIDs, c1.ID) {
		t.Error("terminate-all names the kept session or another organization's")
	}
	if _, err := s.SetPassword(ctx, f.Bob.ID, []byte("new"), store.Actor{Reason: "helpdesk"}); err != nil {
		t.Fatal(err)
	}

	// Every event reads back the same from the log and from the change feed
	// (what live streams send); single-target events have [] (not nil).
	logged := auditOf(t, s, f.A.ID, store.AuditFilter{})
	fed := map[string]store.AuditEvent{}
	for after := head; ; {
		page, err := s.Changes(ctx, f.A.ID, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			if c.Audit != nil {
				fed[c.Audit.ID] = *c.Audit
			}
		}
		after = page[len(page)-1].Pos
	}
	if len(logged) != 6 || len(fed) != len(logged) {
		t.Fatalf("%d events logged, %d in the feed, want 6", len(logged), len(fed))
	}
	for _, e := range logged {
		if !slices.Equal(fed[e.ID].TargetIDs, e.TargetIDs) {
			t.Errorf("%s: feed target_ids %v, log %v", e.Action, fed[e.ID].TargetIDs, e.TargetIDs)
		}
		switch e.Action {
		case store.ActionSessionsTerminateAll, store.ActionUserSessionsTerminate, store.ActionSessionsTerminateSelected:
			if len(e.TargetIDs) != min(e.Count, api.MaxTargetIDs) {
				t.Errorf("%s: %d target_ids for count %d", e.Action, len(e.TargetIDs), e.Count)
			}
		default:
			if e.TargetIDs == nil || len(e.TargetIDs) != 0 || fed[e.ID].TargetIDs == nil {
				t.Errorf("%s: target_ids %#v (feed %#v), want empty and not nil", e.Action, e.TargetIDs, fed[e.ID].TargetIDs)
			}
		}
	}
}

// Finding 6 (v1.2): a bulk end that ended nothing (unknown or already ended
// IDs, a repeated sign-out everywhere, a terminate-all with nothing left)
// answers 0 and records nothing, so nothing reaches the change feed and
// live streams.
func testZeroEffectEndsAreNotAudited(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := ArrangeBulkFixture(t, s)
	a1, _ := SignInAs(t, s, f.Alice, "Firefox 133 on Linux", "192.0.2.1", time.Hour)
	SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "192.0.2.2", time.Hour)
	c1, _ := SignInAs(t, s, f.Carol, "Chrome 131 on Linux", "192.0.2.7", time.Hour)
	byBob := store.Actor{UserID: f.Bob.ID, Reason: "r"}
	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, "", byBob); err != nil || n != 2 {
		t.Fatalf("sign out alice = %d %v", n, err)
	}
	head, err := s.ChangeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, "", byBob); err != nil || n != 0 {
		t.Errorf("repeated sign-out everywhere = %d %v", n, err)
	}
	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Bob.ID, "", byBob); err != nil || n != 0 {
		t.Errorf("sign-out everywhere of someone without sessions = %d %v", n, err)
	}
	unknown := store.NewID(store.PrefixSession)
	sel, err := s.TerminateSessions(ctx, f.A.ID, []string{unknown, a1.ID, c1.ID}, byBob)
	if err != nil || sel.Terminated != 0 || !slices.Equal(sel.NotFound, []string{unknown, c1.ID}) {
		t.Errorf("terminate of unknown and ended ids = %+v %v", sel, err)
	}
	if n, err := s.TerminateAll(ctx, f.A.ID, "", byBob); err != nil || n != 0 {
		t.Errorf("terminate-all with nothing to end = %d %v", n, err)
	}

	if ev := auditOf(t, s, f.A.ID, store.AuditFilter{}); len(ev) != 1 || ev[0].Count != 2 {
		t.Errorf("audit = %+v, want only the sign-out that ended 2", ev)
	}
	if ch, err := s.Changes(ctx, f.A.ID, head, 100); err != nil || len(ch) != 0 {
		t.Errorf("the change feed after the no-ops has %d changes (%v), want none", len(ch), err)
		for _, c := range ch {
			t.Logf("%s %+v", c.Kind(), c.Audit)
		}
	}
	if got, _ := s.GetSession(ctx, f.B.ID, c1.ID); got.TerminatedAt != nil {
		t.Error("carol's session was ended through org a")
	}
}
