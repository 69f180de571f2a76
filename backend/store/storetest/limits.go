package storetest

// Limits on what accumulates: the cap on a user's active sessions, and
// housekeeping of ended sessions and stale devices.

import (
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
	"sessiondesk/internal/testutil"
)

// capped signs in with the session cap max.
func capped(max int) func(*store.SignIn) {
	return func(in *store.SignIn) { in.MaxSessions, in.LimitReason = max, api.SessionLimitReason }
}

// activeOf lists a user's active sessions at now.
func activeOf(t testing.TB, s store.Store, orgID, userID string, now time.Time) []store.Session {
	t.Helper()
	return allSessions(t, s, orgID, store.SessionFilter{ActiveOnly: true, Now: now, UserID: userID, Limit: 1000})
}

// limitEvents are the organization's audit events of sessions the cap
// ended, newest first.
func limitEvents(t testing.TB, s store.Store, orgID string) []store.AuditEvent {
	t.Helper()
	page, err := s.ListAudit(ctx, orgID, store.AuditFilter{ActorID: store.SystemActorID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range page.Items {
		if e.Reason == api.SessionLimitReason {
			out = append(out, e)
		}
	}
	return out
}

// testSessionCap: a sign-in past the cap ends the user's least recently
// active sessions (not the oldest), in the same step, each audited as a
// session.terminate of the system with the reason; expired sessions and
// other users' sessions do not count; no cap ends nothing; a lower cap ends
// as many as it takes.
func testSessionCap(t *testing.T, open Opener) {
	clock := testutil.NewClock()
	s, _ := open(t, clock.Now)
	f := arrange(t, s, "acme", 3)
	u, other, idle := f.users[0], f.users[1], f.users[2]
	var mine []store.Session
	for range 3 {
		x, _ := signIn(t, s, u.ID, capped(3))
		mine = append(mine, x)
		clock.Advance(time.Second)
	}
	for range 5 { // no cap: another user's sessions, beside u's
		signIn(t, s, other.ID, nil)
	}
	if n := len(activeOf(t, s, f.org.ID, u.ID, clock.Now())); n != 3 || len(limitEvents(t, s, f.org.ID)) != 0 {
		t.Fatalf("3 sign-ins under a cap of 3: %d active, %d ended by the cap", n, len(limitEvents(t, s, f.org.ID)))
	}
	// The oldest session was used last: the second is the least recently
	// active one.
	if err := s.TouchSession(ctx, mine[0].ID, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	fourth, _ := signIn(t, s, u.ID, capped(3))
	ended, err := s.GetSession(ctx, f.org.ID, mine[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status(clock.Now()) != store.StatusTerminated || ended.TerminatedBy != nil ||
		!ended.TerminatedAt.Equal(fourth.CreatedAt) || !ended.UpdatedAt.Equal(fourth.CreatedAt) {
		t.Errorf("the least recently active session after the 4th sign-in: %+v (terminated_by %v), want ended by nobody at %v",
			ended, ended.TerminatedBy, fourth.CreatedAt)
	}
	var want []string
	for _, x := range activeOf(t, s, f.org.ID, u.ID, clock.Now()) {
		want = append(want, x.ID)
	}
	if got := []string{fourth.ID, mine[2].ID, mine[0].ID}; !sameSet(want, got) {
		t.Errorf("active after the 4th sign-in: %v, want %v", want, got)
	}
	evs := limitEvents(t, s, f.org.ID)
	if len(evs) != 1 {
		t.Fatalf("%d events of the cap, want 1", len(evs))
	}
	e := evs[0]
	if e.Action != store.ActionSessionTerminate || e.Actor.ID != store.SystemActorID || e.Actor.Email != "" ||
		e.TargetID != mine[1].ID || e.TargetUser == nil || e.TargetUser.ID != u.ID || e.Count != 1 ||
		e.TargetLabel != store.SessionLabel(mine[1].Client, mine[1].IP) || !e.At.Equal(fourth.CreatedAt) {
		t.Errorf("the cap's audit event: %+v", e)
	}
	if n := len(activeOf(t, s, f.org.ID, other.ID, clock.Now())); n != 5 {
		t.Errorf("the other user's sessions: %d active, want 5", n)
	}

	// Expired sessions neither count nor end again.
	expiring, _ := signIn(t, s, idle.ID, func(in *store.SignIn) { capped(2)(in); in.Idle = time.Minute })
	clock.Advance(2 * time.Minute)
	for range 2 {
		signIn(t, s, idle.ID, capped(2))
	}
	if x, err := s.GetSession(ctx, f.org.ID, expiring.ID); err != nil || x.TerminatedAt != nil || x.Status(clock.Now()) != store.StatusExpired {
		t.Errorf("an expired session after sign-ins at the cap: %+v %v", x, err)
	}
	if n := len(activeOf(t, s, f.org.ID, idle.ID, clock.Now())); n != 2 {
		t.Errorf("%d active under a cap of 2", n)
	}

	// A lower cap ends every session over it in one sign-in.
	before := len(limitEvents(t, s, f.org.ID))
	only, _ := signIn(t, s, u.ID, capped(1))
	active := activeOf(t, s, f.org.ID, u.ID, clock.Now())
	if len(active) != 1 || active[0].ID != only.ID || len(limitEvents(t, s, f.org.ID)) != before+3 {
		t.Errorf("a sign-in under a cap of 1: %d active, %d more events, want 1 and 3", len(active), len(limitEvents(t, s, f.org.ID))-before)
	}
}

// testSessionCapAtomic: many sign-ins of one user at once through two
// handles (two replicas): never more than the cap stay active, and every
// session ended is audited once.
func testSessionCapAtomic(t *testing.T, open Opener) {
	s, another := open(t, nil)
	handles := []store.Store{s, another()}
	f := arrange(t, s, "acme", 1)
	u := f.users[0]
	const signIns, max = 16, 3
	var wg sync.WaitGroup
	for i := range signIns {
		wg.Go(func() {
			in := store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")), DeviceName: "laptop", IP: "192.0.2.1",
				Idle: time.Hour, Absolute: 2 * time.Hour}
			capped(max)(&in)
			if _, _, err := handles[i%2].SignIn(ctx, in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(activeOf(t, s, f.org.ID, u.ID, time.Now())); n != max {
		t.Errorf("%d concurrent sign-ins under a cap of %d left %d active", signIns, max, n)
	}
	if n := len(limitEvents(t, s, f.org.ID)); n != signIns-max {
		t.Errorf("%d sessions ended by the cap were audited, want %d", n, signIns-max)
	}
}

// testDeleteStaleDevices: housekeeping deletes untrusted devices neither
// seen nor changed within the retention, in batches, and keeps trusted
// devices, devices of active sessions, devices of kept ended sessions
// (until those are deleted) and devices changed within the retention.
func testDeleteStaleDevices(t *testing.T, open Opener) {
	clock := testutil.NewClock()
	s, _ := open(t, clock.Now)
	f := arrange(t, s, "acme", 1)
	const day = 24 * time.Hour
	st := arrangeStaleDevices(t, s, f, clock)
	// Nothing is stale while the rows were written (the load at t0) within
	// the retention, however long ago they were last seen.
	retention := 90 * day
	if n, err := s.DeleteStaleDevices(ctx, clock.Now().Add(-retention), 100); err != nil || n != 0 {
		t.Fatalf("at t0+62d: deleted %d (%v), want 0", n, err)
	}
	clock.Advance(29 * day) // t0+91d
	horizon := clock.Now().Add(-retention)
	// Housekeeping with --retain-ended 30 days: the sessions of the devices
	// first and seen are gone, the one ended at t0+62d is kept.
	if _, err := s.DeleteEndedSessions(ctx, clock.Now().Add(-30*day), 100); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteStaleDevices(ctx, horizon, 1); err != nil || n != 1 {
		t.Fatalf("a batch of 1: %d %v", n, err)
	}
	if n, err := s.DeleteStaleDevices(ctx, horizon, 100); err != nil || n != 1 {
		t.Fatalf("the rest: %d %v, want 1", n, err)
	}
	gone := func(d store.Device) bool {
		t.Helper()
		_, err := s.GetDevice(ctx, f.org.ID, d.ID)
		if err != nil && !store.IsNotFound(err) {
			t.Fatal(err)
		}
		return store.IsNotFound(err)
	}
	for _, d := range []store.Device{st.stale1, st.stale2} {
		if !gone(d) {
			t.Errorf("%s kept", d.Name)
		}
	}
	for _, d := range []store.Device{st.trusted, st.untrustedLater, st.ofActive, st.ofEnded, st.seen} {
		if gone(d) {
			t.Errorf("%s deleted at t0+91d", d.Name)
		}
	}

	// The ended session goes after its own retention, then its device.
	clock.Advance(2 * day)
	if _, err := s.DeleteEndedSessions(ctx, clock.Now().Add(-30*day), 100); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteStaleDevices(ctx, clock.Now().Add(-retention), 100); err != nil || n != 1 || !gone(st.ofEnded) {
		t.Errorf("after its session was deleted: %d %v (gone %v)", n, err, gone(st.ofEnded))
	}
	// An untrusted device goes once neither st.seen nor untrusted within the
	// retention; the st.trusted one and the active session's stay.
	clock.Advance(60 * day) // t0+153d
	if n, err := s.DeleteStaleDevices(ctx, clock.Now().Add(-retention), 100); err != nil || n != 2 || !gone(st.untrustedLater) || !gone(st.seen) {
		t.Errorf("at t0+153d: %d %v", n, err)
	}
	if gone(st.trusted) || gone(st.ofActive) {
		t.Error("a st.trusted device or an active session's device was deleted")
	}
}

// staleDevices are the devices of testDeleteStaleDevices, all last seen
// 100 days before the clock's start (t0) unless said otherwise.
type staleDevices struct {
	stale1, stale2 store.Device // no session, never trusted: stale
	trusted        store.Device // still trusted
	untrustedLater store.Device // trusted until t0+60d
	ofActive       store.Device // its session lasts a year
	ofEnded, seen  store.Device // session ended at t0+62d; seen again at t0+50d
}

// arrangeStaleDevices loads the devices at t0 and moves the clock to t0+62d.
func arrangeStaleDevices(t testing.TB, s store.Store, f fixture, clock *testutil.Clock) staleDevices {
	t.Helper()
	var st staleDevices
	u := f.users[0]
	t0 := clock.Now()
	const day = 24 * time.Hour
	device := func(name string, trusted bool, lastSeen time.Time) store.Device {
		d := store.Device{ID: store.NewID(store.PrefixDevice), OrgID: f.org.ID, User: store.User{ID: u.ID}, Name: name,
			Platform: "Linux", FirstSeenAt: lastSeen, LastSeenAt: lastSeen, LastIP: "192.0.2.1"}
		if trusted {
			d.TrustedAt = &lastSeen
			d.TrustSecretHash = make([]byte, 32)
		}
		return d
	}
	session := func(d store.Device, expires time.Time) store.BulkSession {
		created := d.LastSeenAt
		return store.BulkSession{TokenHash: []byte(store.NewID("tok")), Session: store.Session{ID: store.NewID(store.PrefixSession),
			OrgID: f.org.ID, User: store.User{ID: u.ID}, DeviceID: d.ID, IP: "192.0.2.1", CreatedAt: created, LastActiveAt: created,
			ExpiresAt: expires, AbsoluteExpiresAt: expires}}
	}
	long := t0.Add(-100 * day)
	st.stale1, st.stale2 = device("stale 1", false, long), device("stale 2", false, long)
	st.trusted = device("trusted", true, long)
	st.untrustedLater = device("untrusted later", true, long)
	st.ofActive = device("of an active session", false, long)
	b := store.Bulk{Devices: []store.Device{st.stale1, st.stale2, st.trusted, st.untrustedLater, st.ofActive},
		Sessions: []store.BulkSession{session(st.ofActive, t0.Add(365*day))}}
	if err := s.BulkLoad(ctx, b); err != nil {
		t.Fatal(err)
	}
	// A device whose session ends at t0+62d, and one seen again at t0+50d.
	var endedSes store.Session
	endedSes, st.ofEnded = signIn(t, s, u.ID, func(in *store.SignIn) { in.Idle, in.Absolute = 100*day, 100*day })
	first, _ := signIn(t, s, u.ID, nil)
	clock.Advance(50 * day)
	_, st.seen = signIn(t, s, u.ID, func(in *store.SignIn) { in.DeviceID = first.DeviceID })
	clock.Advance(10 * day)
	if _, err := s.UntrustDevice(ctx, f.org.ID, st.untrustedLater.ID, store.Actor{UserID: f.admin.ID}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * day)
	if _, err := s.TerminateSession(ctx, f.org.ID, endedSes.ID, store.Actor{UserID: f.admin.ID}); err != nil {
		t.Fatal(err)
	}
	return st
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x]--; seen[x] < 0 {
			return false
		}
	}
	return true
}

// Housekeeping deletes sessions that ended (terminated or expired) before
// the horizon, in batches, and nothing else; the audit log stays; a feed
// client that synced after the horizon still gets every change since.
func testHousekeeping(t *testing.T, open Opener) {
	clock := testutil.NewClock()
	s, _ := open(t, clock.Now)
	f := arrange(t, s, "acme", 1)
	u := f.users[0].ID
	by := store.Actor{UserID: f.admin.ID}
	var oldEnded []string
	for range 5 {
		x, _ := signIn(t, s, u, nil)
		if _, err := s.TerminateSession(ctx, f.org.ID, x.ID, by); err != nil {
			t.Fatal(err)
		}
		oldEnded = append(oldEnded, x.ID)
	}
	for range 3 { // expire by idle time (1h)
		x, _ := signIn(t, s, u, nil)
		oldEnded = append(oldEnded, x.ID)
	}
	clock.Advance(40 * 24 * time.Hour)
	synced := clock.Now() // a client synced here, within the retention
	recent, _ := signIn(t, s, u, nil)
	if _, err := s.TerminateSession(ctx, f.org.ID, recent.ID, by); err != nil {
		t.Fatal(err)
	}
	live, _ := signIn(t, s, u, func(in *store.SignIn) { in.Idle, in.Absolute = 100*24*time.Hour, 100*24*time.Hour })
	clock.Advance(time.Hour)
	horizon := clock.Now().Add(-30 * 24 * time.Hour)
	total := 0
	for {
		n, err := s.DeleteEndedSessions(ctx, horizon, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n > 3 {
			t.Fatalf("a batch of 3 deleted %d", n)
		}
		total += n
		if n == 0 {
			break
		}
	}
	if total != len(oldEnded) {
		t.Errorf("deleted %d, want %d", total, len(oldEnded))
	}
	for _, id := range oldEnded {
		if _, err := s.GetSession(ctx, f.org.ID, id); !store.IsNotFound(err) {
			t.Errorf("session %s, ended 40 days ago, kept: %v", id, err)
		}
	}
	for _, id := range []string{recent.ID, live.ID} {
		if _, err := s.GetSession(ctx, f.org.ID, id); err != nil {
			t.Errorf("session %s deleted: %v", id, err)
		}
	}
	feed := allSessions(t, s, f.org.ID, store.SessionFilter{UpdatedSince: &synced})
	if len(feed) != 2 {
		t.Errorf("feed since the client's sync has %d sessions, want the 2 changed since", len(feed))
	}
	page, err := s.ListAudit(ctx, f.org.ID, store.AuditFilter{Limit: 100})
	if err != nil || len(page.Items) != 6 {
		t.Errorf("audit after housekeeping: %d events %v, want 6", len(page.Items), err)
	}
}
