package storetest

// What the audit events of bulk ends name (target_ids), in the log and in
// the change feed, and that an end with no effect is not audited.

import (
	"slices"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

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
	latest := func(action string) store.AuditEvent { t.Helper(); return latestAudit(t, s, f.A.ID, action) }

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
	endOneAndUntrust(t, s, f, b2, byBob)
	terminateAllNamesTheFirst(t, s, f, a3, c1, byBob)
	if _, err := s.SetPassword(ctx, f.Bob.ID, []byte("new"), store.Actor{Reason: "helpdesk"}); err != nil {
		t.Fatal(err)
	}
	logAndFeedNameTheSameTargets(t, s, f.A.ID, head)
}

// latestAudit is the organization's newest audit event of action.
func latestAudit(t testing.TB, s store.Store, orgID, action string) store.AuditEvent {
	t.Helper()
	ev := auditOf(t, s, orgID, store.AuditFilter{Action: action})
	if len(ev) == 0 {
		t.Fatalf("no %s event", action)
	}
	return ev[0]
}

// endOneAndUntrust ends one session and untrusts a device of Bob's: two
// single-target events, which name no list.
func endOneAndUntrust(t testing.TB, s store.Store, f BulkFixture, one store.Session, by store.Actor) {
	t.Helper()
	if _, err := s.TerminateSession(ctx, f.A.ID, one.ID, by); err != nil {
		t.Fatal(err)
	}
	_, bd := SignInAs(t, s, f.Bob, "Trusted", "192.0.2.8", time.Hour)
	if _, _, err := s.SignIn(ctx, store.SignIn{UserID: f.Bob.ID, TokenHash: []byte(store.NewID("tok")), DeviceID: bd.ID,
		TrustDevice: true, TrustSecretHash: []byte("h"), IP: "192.0.2.8", Idle: time.Hour, Absolute: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UntrustDevice(ctx, f.A.ID, bd.ID, by); err != nil {
		t.Fatal(err)
	}
}

// terminateAllNamesTheFirst: a terminate-all of more than api.MaxTargetIDs
// sessions names the first api.MaxTargetIDs in ID order; the kept one and
// other organizations' (other) are never among them.
func terminateAllNamesTheFirst(t testing.TB, s store.Store, f BulkFixture, kept, other store.Session, by store.Actor) {
	t.Helper()
	bulkSessions(t, s, f.A.ID, f.Bob.ID, api.MaxTargetIDs+5, time.Now())
	active := allSessions(t, s, f.A.ID, store.SessionFilter{ActiveOnly: true, Now: time.Now()})
	var ending []store.Session
	for _, x := range active {
		if x.ID != kept.ID {
			ending = append(ending, x)
		}
	}
	if len(ending) < api.MaxTargetIDs+5 {
		t.Fatalf("%d sessions to end", len(ending))
	}
	n, err := s.TerminateAll(ctx, f.A.ID, kept.ID, by)
	if err != nil || n != len(ending) {
		t.Fatalf("terminate all = %d %v, want %d", n, err, len(ending))
	}
	all := latestAudit(t, s, f.A.ID, store.ActionSessionsTerminateAll)
	if want := sortedIDs(ending...)[:api.MaxTargetIDs]; all.Count != n || !slices.Equal(all.TargetIDs, want) {
		t.Errorf("terminate-all: count %d, %d target_ids (first %v), want %d and the first %d in ID order",
			all.Count, len(all.TargetIDs), all.TargetIDs[:min(3, len(all.TargetIDs))], n, api.MaxTargetIDs)
	}
	if slices.Contains(all.TargetIDs, kept.ID) || slices.Contains(all.TargetIDs, other.ID) {
		t.Error("terminate-all names the kept session or another organization's")
	}
}

// logAndFeedNameTheSameTargets: every event since head reads back the same
// from the log and from the change feed (what live streams send); the
// six of testBulkEndsNameTheirSessions, where single-target events have []
// (not nil).
func logAndFeedNameTheSameTargets(t testing.TB, s store.Store, orgID string, head store.ChangePos) {
	t.Helper()
	logged := auditOf(t, s, orgID, store.AuditFilter{})
	fed := map[string]store.AuditEvent{}
	for _, c := range walkChanges(t, s, orgID, head, 500) {
		if c.Audit != nil {
			fed[c.Audit.ID] = *c.Audit
		}
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
