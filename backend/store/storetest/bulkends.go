package storetest

// The v1.1 bulk ends (sign a user out everywhere, end chosen sessions) and
// audit targets and filters, on every store.

import (
	"context"
	"slices"
	"testing"
	"time"

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
func SignInAs(t testing.TB, s store.Store, u store.User, client, ip string, idle time.Duration) (store.Session, store.Device) {
	t.Helper()
	ses, dev, err := s.SignIn(context.Background(), store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")),
		DeviceName: client, DevicePlatform: "Linux", IP: ip, UserAgent: "UA " + client, Client: client,
		Idle: idle, Absolute: 2 * idle})
	if err != nil {
		t.Fatal(err)
	}
	return ses, dev
}

func auditOf(t testing.TB, s store.Store, orgID string, f store.AuditFilter) []store.AuditEvent {
	t.Helper()
	f.Limit = 1000
	page, err := s.ListAudit(context.Background(), orgID, f)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// bulkEndSessions are the sessions testBulkEnds ends or must leave: Alice's
// a1-a3 and aOld (expired), Bob's b1 and b2, Carol's c1 (organization b).
type bulkEndSessions struct{ a1, a2, a3, aOld, b1, b2, c1 store.Session }

func testBulkEnds(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := ArrangeBulkFixture(t, s)
	var ss bulkEndSessions
	ss.a1, _ = SignInAs(t, s, f.Alice, "Firefox 133 on Linux", "192.0.2.1", time.Hour)
	ss.a2, _ = SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "2001:db8::1", time.Hour)
	ss.a3, _ = SignInAs(t, s, f.Alice, "Safari on iOS", "192.0.2.3", time.Hour)
	ss.aOld, _ = SignInAs(t, s, f.Alice, "Old", "192.0.2.4", time.Nanosecond) // expires at once
	ss.b1, _ = SignInAs(t, s, f.Bob, "Edge 131 on Windows", "192.0.2.5", time.Hour)
	ss.b2, _ = SignInAs(t, s, f.Bob, "Firefox 133 on macOS", "192.0.2.6", time.Hour)
	ss.c1, _ = SignInAs(t, s, f.Carol, "Chrome 131 on Linux", "192.0.2.7", time.Hour)
	time.Sleep(time.Millisecond) // aOld is now expired
	byBob := store.Actor{UserID: f.Bob.ID, Reason: "phishing"}
	signOutEverywhere(t, s, f, ss, byBob)
	endChosenSessions(t, s, f, ss, byBob)
}

// signOutEverywhere signs Alice out everywhere but the session she acts
// from; another organization's or an unknown user is not found.
func signOutEverywhere(t testing.TB, s store.Store, f BulkFixture, ss bulkEndSessions, byBob store.Actor) {
	t.Helper()
	// Sign Alice out everywhere while she keeps the session she acts from.
	n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, ss.a3.ID, store.Actor{UserID: f.Alice.ID, Reason: "mine"})
	if err != nil || n != 2 {
		t.Fatalf("terminate alice's sessions = %d %v, want 2", n, err)
	}
	for _, tc := range []struct {
		id    string
		ended bool
	}{{ss.a1.ID, true}, {ss.a2.ID, true}, {ss.a3.ID, false}, {ss.aOld.ID, false}, {ss.b1.ID, false}} {
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
	if got, _ := s.GetSession(ctx, f.A.ID, ss.a1.ID); !got.TerminatedAt.Equal(ev[0].At) {
		t.Errorf("terminated_at %v, audit at %v", got.TerminatedAt, ev[0].At)
	}
	// Another organization's user, or an unknown one, is NotFound and changes nothing.
	for _, id := range []string{f.Carol.ID, store.NewID(store.PrefixUser)} {
		if _, err := s.TerminateUserSessions(ctx, f.A.ID, id, "", byBob); store.ErrorCode(err) != store.ENotFound {
			t.Errorf("terminate user %s of another org: %v, want not found", id, err)
		}
	}
	if got, _ := s.GetSession(ctx, f.B.ID, ss.c1.ID); got.TerminatedAt != nil {
		t.Error("carol's session was ended through org a")
	}
	// Nothing left to end records nothing (v1.2; see ZeroEffectEndsAreNotAudited).
	if n, err := s.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, ss.a3.ID, byBob); err != nil || n != 0 {
		t.Errorf("again = %d %v", n, err)
	}
	if ev := auditOf(t, s, f.A.ID, store.AuditFilter{}); len(ev) != 1 {
		t.Errorf("audit after a no-op sign-out = %+v", ev)
	}
}

// endChosenSessions ends chosen sessions by Bob, after signOutEverywhere.
func endChosenSessions(t testing.TB, s store.Store, f BulkFixture, ss bulkEndSessions, byBob store.Actor) {
	t.Helper()
	// End chosen sessions: duplicates count once, ended and expired count as
	// neither, another org's and unknown IDs are not found (in order, once).
	unknown := store.NewID(store.PrefixSession)
	sel, err := s.TerminateSessions(ctx, f.A.ID, []string{ss.b1.ID, ss.c1.ID, ss.b1.ID, ss.a1.ID, ss.aOld.ID, unknown, ss.c1.ID, ss.a3.ID}, byBob)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Terminated != 2 || !slices.Equal(sel.NotFound, []string{ss.c1.ID, unknown}) {
		t.Errorf("terminate selected = %+v, want 2 ended, not found [carol's, unknown]", sel)
	}
	for _, id := range []string{ss.b1.ID, ss.a3.ID} {
		if got, _ := s.GetSession(ctx, f.A.ID, id); got.TerminatedAt == nil || got.TerminatedBy.ID != f.Bob.ID {
			t.Errorf("selected session %s not ended by bob: %+v", got.Client, got.TerminatedBy)
		}
	}
	if got, _ := s.GetSession(ctx, f.A.ID, ss.b2.ID); got.TerminatedAt != nil {
		t.Error("an unselected session was ended")
	}
	if got, _ := s.GetSession(ctx, f.B.ID, ss.c1.ID); got.TerminatedAt != nil {
		t.Error("carol's session was ended by a selection in org a")
	}
	if got, _ := s.GetSession(ctx, f.A.ID, ss.aOld.ID); got.TerminatedAt != nil {
		t.Error("an expired session was marked terminated")
	}
	ev := auditOf(t, s, f.A.ID, store.AuditFilter{Action: store.ActionSessionsTerminateSelected})
	if len(ev) != 1 || ev[0].Count != 2 || ev[0].TargetID != "" || ev[0].TargetUser != nil || ev[0].Actor.ID != f.Bob.ID {
		t.Errorf("selected audit = %+v (two people's sessions: no target user)", ev)
	}
	// One person's sessions only: the event names that person.
	if sel, err := s.TerminateSessions(ctx, f.A.ID, []string{ss.b2.ID}, byBob); err != nil || sel.Terminated != 1 || len(sel.NotFound) != 0 {
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
	f := ArrangeBulkFixture(t, s)
	arrangeAuditTargets(t, s, f)
	auditNamesTargets(t, s, f)
	auditFilters(t, s, f)
	auditFiltersPage(t, s, f)
}

// arrangeAuditTargets writes four events of organization a, one of each
// kind of target: a session, a device, none (terminate-all), a user.
func arrangeAuditTargets(t testing.TB, s store.Store, f BulkFixture) {
	t.Helper()
	a1, _ := SignInAs(t, s, f.Alice, "Chrome 131 on Windows", "203.0.113.10", time.Hour)
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
}

// auditNamesTargets: each event names its target user and label.
func auditNamesTargets(t testing.TB, s store.Store, f BulkFixture) {
	t.Helper()
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
}

// auditFilters: each filter alone and combined, within the organization.
func auditFilters(t testing.TB, s store.Store, f BulkFixture) {
	t.Helper()
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
}

func auditFiltersPage(t testing.TB, s store.Store, f BulkFixture) {
	t.Helper()
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
