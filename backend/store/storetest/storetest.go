// Package storetest is the one test suite of store.Store: every store's
// tests call Run with a way to open that store, and the same cases check
// the same rules on each (SQLite and PostgreSQL today). Rules that get hard
// with several writers (strictly increasing change order, keyset cursors
// that never repeat or skip while others write, a delta feed that never
// skips a change committed late) run writers on separate handles of the
// same database, as separate processes or replicas would.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

// Opener opens a fresh, empty store for one test, closed at its cleanup,
// on clock (nil: time.Now). Another opens one more handle (its own
// connections) to the same database, like a second replica.
type Opener func(t testing.TB, clock func() time.Time) (s store.Store, another func() store.Store)

// Run runs every case against stores from open.
func Run(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"OrgsAndUsers", testOrgsAndUsers},
		{"SignInAndAuthenticate", testSignInAndAuthenticate},
		{"OrgConfinement", testOrgConfinement},
		{"TerminateAndAudit", testTerminateAndAudit},
		{"TouchSession", testTouchSession},
		{"ResetCredentialRevokes", testResetCredentialRevokes},
		{"UseTOTPStepOnce", testUseTOTPStepOnce},
		{"BulkLoadIsAllOrNothing", testBulkLoadAllOrNothing},
		{"UpdatedAtStrictlyIncreasesAcrossHandles", testUpdatedAtStrictlyIncreases},
		{"KeysetNeverRepeatsOrSkipsUnderWrites", testKeysetUnderWrites},
		{"FeedNeverSkipsLateCommits", testFeedNeverSkipsLateCommits},
		{"ThrottleReservations", testThrottleReservations},
		{"ThrottleIsAtomicAcrossHandles", testThrottleAtomic},
		{"StreamLeases", testStreamLeases},
		{"StreamLeasesAreAtomicAcrossHandles", testStreamLeasesAtomic},
		{"HousekeepingDeletesOnlyLongEndedSessions", testHousekeeping},
		{"ChangeFeedOrderAndPaging", testChangeFeed},
		{"BulkEnds", testBulkEnds},
		{"AuditTargetsAndFilters", testAuditTargetsAndFilters},
		{"BulkEndsNameTheirSessions", testBulkEndsNameTheirSessions},
		{"ZeroEffectEndsAreNotAudited", testZeroEffectEndsAreNotAudited},
		{"ChangeFeedNeverSkipsLateCommits", testChangeFeedUnderWriters},
		{"StreamLeasesPerUser", testStreamLeasesPerUser},
		{"SessionCapEndsLeastRecentlyActive", testSessionCap},
		{"SessionCapIsAtomicAcrossHandles", testSessionCapAtomic},
		{"HousekeepingDeletesOnlyStaleDevices", testDeleteStaleDevices},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// Clock is a clock tests move by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var ctx = context.Background()

// fixture is an organization with users.
type fixture struct {
	org   store.Org
	admin store.User
	users []store.User
}

func arrange(t testing.TB, s store.Store, slug string, nUsers int) fixture {
	t.Helper()
	org, err := s.CreateOrg(ctx, slug, "Org "+slug)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{org: org}
	f.admin = mkUser(t, s, org.ID, "admin@"+slug+".test", store.RoleSecurityAdmin)
	for i := range nUsers {
		f.users = append(f.users, mkUser(t, s, org.ID, fmt.Sprintf("u%d@%s.test", i, slug), store.RoleMember))
	}
	return f
}

func mkUser(t testing.TB, s store.Store, orgID, email, role string) store.User {
	t.Helper()
	u, err := s.CreateUser(ctx, store.NewUser{OrgID: orgID, Email: email, Name: email, Role: role, PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func signIn(t testing.TB, s store.Store, userID string, mod func(*store.SignIn)) (store.Session, store.Device) {
	t.Helper()
	in := store.SignIn{UserID: userID, TokenHash: []byte(store.NewID("tok")), DeviceName: "laptop", DevicePlatform: "Linux",
		IP: "192.0.2.1", UserAgent: "ua", Client: "Firefox 133 on Linux", Location: "Berlin", Idle: time.Hour, Absolute: 2 * time.Hour}
	if mod != nil {
		mod(&in)
	}
	ses, dev, err := s.SignIn(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return ses, dev
}

// bulkSessions loads n active sessions of user u in org with distinct
// created_at one second apart, ending now.
func bulkSessions(t testing.TB, s store.Store, orgID, userID string, n int, now time.Time) {
	t.Helper()
	var b store.Bulk
	for i := range n {
		created := now.Add(-time.Duration(n-i) * time.Second)
		b.Sessions = append(b.Sessions, store.BulkSession{TokenHash: []byte(store.NewID("tok")), Session: store.Session{
			ID: store.NewID(store.PrefixSession), OrgID: orgID, User: store.User{ID: userID}, IP: "192.0.2.1",
			Client: "Firefox 133 on Linux", CreatedAt: created, LastActiveAt: created,
			ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(2 * time.Hour)}})
	}
	if err := s.BulkLoad(ctx, b); err != nil {
		t.Fatal(err)
	}
}

func allSessions(t testing.TB, s store.Store, orgID string, f store.SessionFilter) []store.Session {
	t.Helper()
	var out []store.Session
	for {
		page, err := s.ListSessions(ctx, orgID, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == nil {
			return out
		}
		f.After = page.Next
	}
}

func testOrgsAndUsers(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	if empty, err := s.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("new store: empty %v %v", empty, err)
	}
	org, err := s.CreateOrg(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if empty, _ := s.IsEmpty(ctx); empty {
		t.Error("store with an org reports empty")
	}
	if _, err := s.CreateOrg(ctx, "acme", "Again"); store.ErrorCode(err) != store.EConflict {
		t.Errorf("duplicate slug: %v", err)
	}
	for _, get := range []func() (store.Org, error){
		func() (store.Org, error) { return s.OrgBySlug(ctx, "acme") },
		func() (store.Org, error) { return s.OrgByID(ctx, org.ID) },
	} {
		if o, err := get(); err != nil || o.ID != org.ID || o.Name != "Acme" || !o.CreatedAt.Equal(org.CreatedAt) {
			t.Errorf("org = %+v %v, want %+v", o, err, org)
		}
	}
	if _, err := s.OrgBySlug(ctx, "nope"); !store.IsNotFound(err) {
		t.Errorf("missing org: %v", err)
	}
	u, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "  Ann@Acme.TEST ", Name: "Ann", Role: store.RoleAuditor, PasswordHash: []byte("h")})
	if err != nil || u.Email != "ann@acme.test" {
		t.Fatalf("create user = %+v %v", u, err)
	}
	if _, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "ANN@acme.test", Name: "A2", Role: store.RoleMember, PasswordHash: []byte("h")}); store.ErrorCode(err) != store.EConflict {
		t.Errorf("duplicate e-mail: %v", err)
	}
	got, err := s.UserByEmail(ctx, org.ID, "ann@ACME.test")
	if err != nil || got.ID != u.ID || string(got.PasswordHash) != "h" || got.Role != store.RoleAuditor {
		t.Errorf("user by email = %+v %v", got, err)
	}
	other, _ := s.CreateOrg(ctx, "other", "Other")
	if _, err := s.UserByEmail(ctx, other.ID, "ann@acme.test"); !store.IsNotFound(err) {
		t.Errorf("user of another org: %v", err)
	}
	mkUser(t, s, org.ID, "bob@acme.test", store.RoleMember)
	users, err := s.ListUsers(ctx, org.ID)
	if err != nil || len(users) != 2 || users[0].Email != "ann@acme.test" || users[1].Email != "bob@acme.test" {
		t.Errorf("list users = %+v %v", users, err)
	}
}

func testSignInAndAuthenticate(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := arrange(t, s, "acme", 1)
	u := f.users[0]
	secret := sha256.Sum256([]byte("device secret"))
	tok := []byte(store.NewID("tok"))
	ses, dev := signIn(t, s, u.ID, func(in *store.SignIn) {
		in.TokenHash, in.TrustDevice, in.TrustSecretHash, in.MFA = tok, true, secret[:], true
	})
	if ses.DeviceID != dev.ID || !ses.MFA || ses.User.Email != u.Email || !dev.Trusted() || ses.Client != "Firefox 133 on Linux" {
		t.Errorf("sign in = %+v / %+v", ses, dev)
	}
	if !ses.ExpiresAt.Equal(ses.CreatedAt.Add(time.Hour)) || !ses.AbsoluteExpiresAt.Equal(ses.CreatedAt.Add(2*time.Hour)) {
		t.Errorf("expiry %v / %v after %v", ses.ExpiresAt, ses.AbsoluteExpiresAt, ses.CreatedAt)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || p.Session.ID != ses.ID || p.User.Role != store.RoleMember || p.Org.Slug != "acme" {
		t.Errorf("authenticate = %+v %v", p, err)
	}
	if _, err := s.Authenticate(ctx, []byte("unknown")); !store.IsNotFound(err) {
		t.Errorf("unknown token: %v", err)
	}
	got, err := s.DeviceOfUser(ctx, u.ID, dev.ID)
	if err != nil || !bytes.Equal(got.TrustSecretHash, secret[:]) {
		t.Errorf("device of user = %+v %v", got, err)
	}
	if _, err := s.DeviceOfUser(ctx, f.admin.ID, dev.ID); !store.IsNotFound(err) {
		t.Errorf("another user's device: %v", err)
	}
	// Signing in again from the known device refreshes it; another user's
	// device ID gets a new device.
	ses2, dev2 := signIn(t, s, u.ID, func(in *store.SignIn) { in.DeviceID, in.IP = dev.ID, "198.51.100.9" })
	if dev2.ID != dev.ID || dev2.LastIP != "198.51.100.9" || !dev2.UpdatedAt.After(dev.UpdatedAt) || ses2.DeviceID != dev.ID {
		t.Errorf("refreshed device = %+v", dev2)
	}
	_, dev3 := signIn(t, s, f.admin.ID, func(in *store.SignIn) { in.DeviceID = dev.ID })
	if dev3.ID == dev.ID {
		t.Error("another user's device ID was reused")
	}
	if err := s.Logout(ctx, ses.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.Authenticate(ctx, tok); p.Session.TerminatedAt == nil {
		t.Errorf("after logout: %+v", p.Session)
	}
	got2, _ := s.GetSession(ctx, f.org.ID, ses.ID)
	if got2.TerminatedBy == nil || got2.TerminatedBy.ID != u.ID {
		t.Errorf("after logout: terminated by %+v, want the user", got2.TerminatedBy)
	}
	// Authenticate reads the session as GetSession does, terminated_by
	// included (a copy of the row scan once dropped it).
	authed := p.Session
	authed.User.Role = ""
	if !reflect.DeepEqual(authed, got2) {
		t.Errorf("Authenticate's session\n %+v\nGetSession's\n %+v", authed, got2)
	}
}

func testOrgConfinement(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	a, b := arrange(t, s, "a", 1), arrange(t, s, "b", 1)
	ses, dev := signIn(t, s, a.users[0].ID, func(in *store.SignIn) { in.TrustDevice = true })
	by := store.Actor{UserID: b.admin.ID}
	if _, err := s.GetSession(ctx, b.org.ID, ses.ID); !store.IsNotFound(err) {
		t.Errorf("get session of another org: %v", err)
	}
	if _, err := s.TerminateSession(ctx, b.org.ID, ses.ID, by); !store.IsNotFound(err) {
		t.Errorf("terminate session of another org: %v", err)
	}
	if _, err := s.GetDevice(ctx, b.org.ID, dev.ID); !store.IsNotFound(err) {
		t.Errorf("get device of another org: %v", err)
	}
	if _, err := s.UntrustDevice(ctx, b.org.ID, dev.ID, by); !store.IsNotFound(err) {
		t.Errorf("untrust device of another org: %v", err)
	}
	if n, err := s.TerminateAll(ctx, b.org.ID, "", by); err != nil || n != 0 {
		t.Errorf("terminate all of b = %d %v", n, err)
	}
	if got := allSessions(t, s, b.org.ID, store.SessionFilter{}); len(got) != 0 {
		t.Errorf("b lists %d sessions of a", len(got))
	}
	if got, _ := s.GetSession(ctx, a.org.ID, ses.ID); got.TerminatedAt != nil {
		t.Error("a's session was ended through b")
	}
	if got, _ := s.GetDevice(ctx, a.org.ID, dev.ID); !got.Trusted() {
		t.Error("a's device was untrusted through b")
	}
}

func testTerminateAndAudit(t *testing.T, open Opener) {
	clock := NewClock()
	s, _ := open(t, clock.Now)
	f := arrange(t, s, "acme", 1)
	u := f.users[0].ID
	keep, _ := signIn(t, s, f.admin.ID, nil)
	one, _ := signIn(t, s, u, nil)
	signIn(t, s, u, nil)
	expired, _ := signIn(t, s, u, func(in *store.SignIn) { in.Idle = time.Minute })
	clock.Advance(2 * time.Minute)
	by := store.Actor{UserID: f.admin.ID, Reason: "lost laptop"}

	got, err := s.TerminateSession(ctx, f.org.ID, one.ID, by)
	if err != nil || got.TerminatedAt == nil || got.TerminatedBy == nil || got.TerminatedBy.ID != f.admin.ID || !got.UpdatedAt.After(one.UpdatedAt) {
		t.Fatalf("terminate = %+v %v", got, err)
	}
	again, err := s.TerminateSession(ctx, f.org.ID, one.ID, by)
	if err != nil || !again.UpdatedAt.Equal(got.UpdatedAt) || !again.TerminatedAt.Equal(*got.TerminatedAt) {
		t.Errorf("terminating again changed the session: %+v %v", again, err)
	}
	n, err := s.TerminateAll(ctx, f.org.ID, keep.ID, by)
	if err != nil || n != 1 {
		t.Errorf("terminate all = %d %v, want 1 (one kept, one terminated, one expired)", n, err)
	}
	if e, _ := s.GetSession(ctx, f.org.ID, expired.ID); e.TerminatedAt != nil || e.Status(clock.Now()) != store.StatusExpired {
		t.Errorf("expired session after terminate-all: %+v", e)
	}
	if k, _ := s.GetSession(ctx, f.org.ID, keep.ID); k.TerminatedAt != nil {
		t.Error("the kept session was ended")
	}
	active := allSessions(t, s, f.org.ID, store.SessionFilter{ActiveOnly: true, Now: clock.Now()})
	if len(active) != 1 || active[0].ID != keep.ID {
		t.Errorf("active after terminate-all = %d", len(active))
	}
	_, dev := signIn(t, s, u, func(in *store.SignIn) { in.TrustDevice = true })
	if d, err := s.UntrustDevice(ctx, f.org.ID, dev.ID, by); err != nil || d.Trusted() {
		t.Errorf("untrust = %+v %v", d, err)
	}
	if _, err := s.UntrustDevice(ctx, f.org.ID, dev.ID, by); err != nil {
		t.Error(err)
	}
	var events []store.AuditEvent
	af := store.AuditFilter{Limit: 1}
	for {
		page, err := s.ListAudit(ctx, f.org.ID, af)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.Items...)
		if page.Next == nil {
			break
		}
		af.After = page.Next
	}
	want := []string{store.ActionDeviceUntrust, store.ActionSessionsTerminateAll, store.ActionSessionTerminate}
	if len(events) != len(want) {
		t.Fatalf("audit = %+v, want %v", events, want)
	}
	for i, e := range events {
		if e.Action != want[i] || e.Actor.ID != f.admin.ID || e.Actor.Email != f.admin.Email || e.Reason != "lost laptop" {
			t.Errorf("audit %d = %+v, want %s", i, e, want[i])
		}
	}
	if events[1].Count != 1 || events[1].TargetID != "" || events[2].TargetID != one.ID {
		t.Errorf("audit details = %+v", events)
	}
}

func testTouchSession(t *testing.T, open Opener) {
	clock := NewClock()
	s, _ := open(t, clock.Now)
	f := arrange(t, s, "acme", 1)
	ses, _ := signIn(t, s, f.users[0].ID, nil) // idle 1h, absolute 2h
	clock.Advance(30 * time.Second)
	if err := s.TouchSession(ctx, ses.ID, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, f.org.ID, ses.ID); !got.UpdatedAt.Equal(ses.UpdatedAt) {
		t.Error("a touch within minInterval wrote")
	}
	clock.Advance(50 * time.Minute)
	if err := s.TouchSession(ctx, ses.ID, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetSession(ctx, f.org.ID, ses.ID)
	if !got.LastActiveAt.Equal(clock.Now()) || !got.ExpiresAt.Equal(clock.Now().Add(time.Hour)) || !got.UpdatedAt.After(ses.UpdatedAt) {
		t.Errorf("after touch: last active %v expires %v updated %v", got.LastActiveAt, got.ExpiresAt, got.UpdatedAt)
	}
	clock.Advance(50 * time.Minute) // expires_at slides no further than absolute
	if err := s.TouchSession(ctx, ses.ID, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, f.org.ID, ses.ID); !got.ExpiresAt.Equal(ses.AbsoluteExpiresAt) {
		t.Errorf("expires %v, want absolute %v", got.ExpiresAt, ses.AbsoluteExpiresAt)
	}
	// Expiry by the passage of time does not bump updated_at.
	before, _ := s.GetSession(ctx, f.org.ID, ses.ID)
	clock.Advance(3 * time.Hour)
	if err := s.TouchSession(ctx, ses.ID, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, f.org.ID, ses.ID); !got.UpdatedAt.Equal(before.UpdatedAt) || got.Status(clock.Now()) != store.StatusExpired {
		t.Errorf("an expired session was touched: %+v", got)
	}
}

// A password reset or TOTP re-enrolment ends the user's active sessions,
// untrusts the user's devices (forgetting their secrets) and audits it, all
// in one transaction; other users are untouched.
func testResetCredentialRevokes(t *testing.T, open Opener) {
	for _, tc := range []struct {
		action string
		reset  func(s store.Store, userID string, by store.Actor) (store.Revocation, error)
	}{
		{store.ActionUserPasswordReset, func(s store.Store, id string, by store.Actor) (store.Revocation, error) {
			return s.SetPassword(ctx, id, []byte("new-hash"), by)
		}},
		{store.ActionUserTOTPReset, func(s store.Store, id string, by store.Actor) (store.Revocation, error) {
			return s.SetTOTPSecret(ctx, id, "JBSWY3DPEHPK3PXP", by)
		}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			s, _ := open(t, nil)
			org, err := s.CreateOrg(ctx, "o", "O")
			if err != nil {
				t.Fatal(err)
			}
			u, other := mkUser(t, s, org.ID, "u@o.test", store.RoleMember), mkUser(t, s, org.ID, "other@o.test", store.RoleMember)
			secret := sha256.Sum256([]byte("device secret"))
			trust := func(in *store.SignIn) { in.TrustDevice, in.TrustSecretHash = true, secret[:] }
			s1, d1 := signIn(t, s, u.ID, trust)
			s2, _ := signIn(t, s, u.ID, nil)
			otherSess, od := signIn(t, s, other.ID, trust)
			if got, _ := s.DeviceOfUser(ctx, u.ID, d1.ID); !got.Trusted() || !bytes.Equal(got.TrustSecretHash, secret[:]) {
				t.Fatalf("trusted device before reset: %+v", got)
			}

			rv, err := tc.reset(s, u.ID, store.Actor{Reason: "cli"})
			if err != nil {
				t.Fatal(err)
			}
			if rv != (store.Revocation{Sessions: 2, Devices: 1}) {
				t.Errorf("revocation = %+v, want 2 sessions, 1 device", rv)
			}
			for _, id := range []string{s1.ID, s2.ID} {
				got, err := s.GetSession(ctx, org.ID, id)
				if err != nil || got.TerminatedAt == nil || got.TerminatedBy != nil {
					t.Errorf("session %s after reset: terminated %v by %v (%v)", id, got.TerminatedAt, got.TerminatedBy, err)
				}
			}
			if got, _ := s.DeviceOfUser(ctx, u.ID, d1.ID); got.Trusted() || got.TrustSecretHash != nil {
				t.Errorf("device after reset: trusted %v secret hash %x", got.Trusted(), got.TrustSecretHash)
			}
			if got, _ := s.GetSession(ctx, org.ID, otherSess.ID); got.TerminatedAt != nil {
				t.Errorf("another user's session was ended")
			}
			if got, _ := s.DeviceOfUser(ctx, other.ID, od.ID); !got.Trusted() {
				t.Errorf("another user's device was untrusted")
			}
			page, err := s.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 10})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("audit = %+v %v", page.Items, err)
			}
			e := page.Items[0]
			if e.Action != tc.action || e.TargetID != u.ID || e.Count != 2 || e.Reason != "cli" ||
				e.Actor.ID != store.SystemActorID || e.Actor.Name == "" || e.Actor.Email != "" {
				t.Errorf("audit event = %+v", e)
			}
			if _, err := tc.reset(s, store.NewID(store.PrefixUser), store.Actor{}); store.ErrorCode(err) != store.ENotFound {
				t.Errorf("unknown user: %v", err)
			}
		})
	}
}

func testUseTOTPStepOnce(t *testing.T, open Opener) {
	s, another := open(t, nil)
	s2 := another()
	f := arrange(t, s, "acme", 1)
	// Two handles race for the same step: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, h := range []store.Store{s, s2, s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := h.UseTOTPStep(ctx, f.users[0].ID, 100)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("step 100 accepted %d times", wins.Load())
	}
	if ok, _ := s.UseTOTPStep(ctx, f.users[0].ID, 99); ok {
		t.Error("an earlier step was accepted after a later one")
	}
	if ok, _ := s.UseTOTPStep(ctx, f.users[0].ID, 101); !ok {
		t.Error("the next step was refused")
	}
}

func testBulkLoadAllOrNothing(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	now := time.Now()
	org := store.Org{ID: store.NewID(store.PrefixOrg), Slug: "big", Name: "Big", CreatedAt: now}
	u := store.NewUser{ID: store.NewID(store.PrefixUser), OrgID: org.ID, Email: "u@big.test", Name: "U", Role: store.RoleMember, PasswordHash: []byte("x")}
	if err := s.BulkLoad(ctx, store.Bulk{Orgs: []store.Org{org}, Users: []store.NewUser{u}}); err != nil {
		t.Fatal(err)
	}
	bulkSessions(t, s, org.ID, u.ID, 50, now)
	if got := allSessions(t, s, org.ID, store.SessionFilter{Limit: 7}); len(got) != 50 {
		t.Fatalf("%d sessions after the load", len(got))
	}
	dup := []byte(store.NewID("tok"))
	org2 := store.Org{ID: store.NewID(store.PrefixOrg), Slug: "big2", Name: "Big2", CreatedAt: now}
	u2 := store.NewUser{ID: store.NewID(store.PrefixUser), OrgID: org2.ID, Email: "u@big2.test", Name: "U", Role: store.RoleMember, PasswordHash: []byte("x")}
	b := store.Bulk{Orgs: []store.Org{org2}, Users: []store.NewUser{u2}}
	for range 2 {
		b.Sessions = append(b.Sessions, store.BulkSession{TokenHash: dup, Session: store.Session{
			ID: store.NewID(store.PrefixSession), OrgID: org2.ID, User: store.User{ID: u2.ID}, IP: "192.0.2.1",
			CreatedAt: now, LastActiveAt: now, ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour)}})
	}
	if err := s.BulkLoad(ctx, b); err == nil {
		t.Error("a load with a duplicate token hash succeeded")
	}
	if _, err := s.OrgBySlug(ctx, "big2"); !store.IsNotFound(err) {
		t.Errorf("the failed load left its organization behind: %v", err)
	}
}

// Concurrent terminations through two handles get pairwise distinct
// updated_at values.
func testUpdatedAtStrictlyIncreases(t *testing.T, open Opener) {
	s, another := open(t, nil)
	handles := []store.Store{s, another()}
	f := arrange(t, s, "o", 0)
	bulkSessions(t, s, f.org.ID, f.admin.ID, 200, time.Now())
	page, err := s.ListSessions(ctx, f.org.ID, store.SessionFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stamps := map[int64]string{}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[w%2]
			for i := w; i < len(page.Items); i += 4 {
				got, err := h.TerminateSession(ctx, f.org.ID, page.Items[i].ID, store.Actor{UserID: f.admin.ID})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, dup := stamps[got.UpdatedAt.UnixNano()]; dup {
					t.Errorf("updated_at %v shared by %s and %s", got.UpdatedAt, other, got.ID)
				}
				stamps[got.UpdatedAt.UnixNano()] = got.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(stamps) != 200 {
		t.Errorf("%d distinct stamps", len(stamps))
	}
}

// Walking the default order page by page while others create and end
// sessions yields every session that existed before the walk exactly once,
// and no session twice.
func testKeysetUnderWrites(t *testing.T, open Opener) {
	s, another := open(t, nil)
	s2 := another()
	f := arrange(t, s, "o", 2)
	bulkSessions(t, s, f.org.ID, f.users[0].ID, 300, time.Now())
	before := allSessions(t, s, f.org.ID, store.SessionFilter{Limit: 1000})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := []store.Store{s, s2}[w]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w == 0 {
					signIn(t, h, f.users[1].ID, nil)
				} else if _, err := h.TerminateSession(ctx, f.org.ID, before[i%len(before)].ID, store.Actor{UserID: f.admin.ID}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for _, reader := range []store.Store{s, s2} {
		// The active sessions in creation order (the default list; the
		// PostgreSQL store reads them through an index of its own): none
		// twice, and each one still active after the walk, so active all
		// through it (an end is final), exactly once.
		seen := map[string]int{}
		for _, x := range allSessions(t, reader, f.org.ID, store.SessionFilter{Limit: 5, ActiveOnly: true, Now: time.Now()}) {
			seen[x.ID]++
		}
		stillActive := 0
		for _, x := range before {
			now, err := reader.GetSession(ctx, f.org.ID, x.ID)
			if err != nil {
				t.Fatal(err)
			}
			if now.TerminatedAt == nil {
				stillActive++
				if seen[x.ID] != 1 {
					t.Errorf("session %s, active all through the walk of active sessions, listed %d times", x.ID, seen[x.ID])
				}
			} else if seen[x.ID] > 1 {
				t.Errorf("session %s listed %d times among the active", x.ID, seen[x.ID])
			}
		}
		t.Logf("walk of active sessions: %d seen, %d of the %d sessions from before still active after it", len(seen), stillActive, len(before))
		for _, filter := range []store.SessionFilter{{Limit: 7}, {Limit: 11, UserID: f.users[0].ID}} {
			seen := map[string]int{}
			for _, x := range allSessions(t, reader, f.org.ID, filter) {
				seen[x.ID]++
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("session %s listed %d times", id, n)
				}
			}
			for _, x := range before {
				if seen[x.ID] != 1 {
					t.Errorf("session %s, present before the walk, listed %d times", x.ID, seen[x.ID])
				}
			}
		}
	}
	close(stop)
	wg.Wait()
}

// Many writers on two handles create and end sessions while a reader
// follows the updated_since feed from its cursor, as the app's delta sync
// does. When the writers are done and the reader has caught up, its view
// must equal the store: a change committed late by a slower transaction,
// after the reader's cursor had passed a newer change, would be missing.
func testFeedNeverSkipsLateCommits(t *testing.T, open Opener) {
	s, another := open(t, nil)
	s2 := another()
	f := arrange(t, s, "o", 4)
	start := time.Now().Add(-time.Minute)
	writers, perWriter := 8, 40
	if testing.Short() {
		perWriter = 10
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := []store.Store{s, s2}[w%2]
			u := f.users[w%len(f.users)].ID
			for i := range perWriter {
				ses, _ := signIn(t, h, u, nil)
				if i%3 == 0 {
					if _, err := h.TerminateSession(ctx, f.org.ID, ses.ID, store.Actor{UserID: f.admin.ID}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	view := map[string]time.Time{}
	since := start
	var after *store.Key
	poll := func(h store.Store) {
		for {
			page, err := h.ListSessions(ctx, f.org.ID, store.SessionFilter{UpdatedSince: &since, After: after, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Items {
				if prev, ok := view[x.ID]; ok && !x.UpdatedAt.After(prev) {
					t.Errorf("feed repeated %s at %v (seen at %v)", x.ID, x.UpdatedAt, prev)
				}
				view[x.ID] = x.UpdatedAt
			}
			if page.Next == nil {
				// Caught up: the next poll starts after the newest change.
				if n := len(page.Items); n > 0 {
					since, after = page.Items[n-1].UpdatedAt, nil
				}
				return
			}
			after = page.Next
		}
	}
	polls := 0
	for running := true; running; polls++ {
		select {
		case <-done:
			running = false
		default:
		}
		poll([]store.Store{s, s2}[polls%2])
	}
	poll(s)
	final := allSessions(t, s, f.org.ID, store.SessionFilter{Limit: 1000})
	if len(final) != writers*perWriter {
		t.Fatalf("%d sessions, want %d", len(final), writers*perWriter)
	}
	missing := 0
	for _, x := range final {
		if got, ok := view[x.ID]; !ok || !got.Equal(x.UpdatedAt) {
			missing++
			if missing <= 5 {
				t.Errorf("the feed reader has %s at %v, the store at %v", x.ID, got, x.UpdatedAt)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("the feed skipped %d of %d changes", missing, len(final))
	}
	t.Logf("%d writers × %d sign-ins (a third also ended) against %d feed polls: no gap", writers, perWriter, polls)
}

func testThrottleReservations(t *testing.T, open Opener) {
	clock := NewClock()
	s, _ := open(t, clock.Now)
	keys := []store.ThrottleKey{{Key: "a:acct", Limit: 3}, {Key: "i:192.0.2.1", Limit: 10}}
	window := time.Minute
	begin := func() string {
		t.Helper()
		r, err := s.ReserveAttempt(ctx, keys, clock.Now(), window)
		if err != nil || !r.OK || r.ID == "" {
			t.Fatalf("blocked too early: %+v %v", r, err)
		}
		return r.ID
	}
	failed, inFlight, ok := begin(), begin(), begin()
	clock.Advance(10 * time.Second)
	if r, err := s.ReserveAttempt(ctx, keys, clock.Now(), window); err != nil || r.OK || r.Wait != 50*time.Second {
		t.Fatalf("4th attempt with 3 reserved: %+v %v, want refused for 50s", r, err)
	}
	if err := s.SettleAttempt(ctx, failed, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleAttempt(ctx, ok, false, "a:acct"); err != nil { // clears "failed", keeps "inFlight"
		t.Fatal(err)
	}
	// The account now holds only inFlight: two more fit, a third does not.
	a1, a2 := begin(), begin()
	if r, _ := s.ReserveAttempt(ctx, keys, clock.Now(), window); r.OK {
		t.Fatal("a 4th mark on the account was allowed")
	}
	for _, id := range []string{inFlight, a1, a2} {
		if err := s.SettleAttempt(ctx, id, false, ""); err != nil {
			t.Fatal(err)
		}
	}
	// The IP keeps its failure: with an IP limit of 1 it is full.
	ipOnly := []store.ThrottleKey{{Key: "i:192.0.2.1", Limit: 1}}
	if r, _ := s.ReserveAttempt(ctx, ipOnly, clock.Now(), window); r.OK {
		t.Error("the IP lost its failure on the account's success")
	}
	clock.Advance(window)
	if r, _ := s.ReserveAttempt(ctx, ipOnly, clock.Now(), window); !r.OK {
		t.Error("a failure older than the window still counts")
	}
	clock.Advance(window + time.Second)
	if n, err := s.PruneAttempts(ctx, clock.Now().Add(-window)); err != nil || n == 0 {
		t.Errorf("prune = %d %v", n, err)
	}
}

// Many parallel reservations through two handles on the last free slots:
// exactly the limit get through.
func testThrottleAtomic(t *testing.T, open Opener) {
	s, another := open(t, nil)
	handles := []store.Store{s, another()}
	keys := []store.ThrottleKey{{Key: "a:acct", Limit: 5}, {Key: "i:192.0.2.1", Limit: 1000}}
	var got atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := handles[i%2].ReserveAttempt(ctx, keys, time.Now(), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if r.OK {
				got.Add(1)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 5 {
		t.Errorf("%d reservations got through, want exactly 5", got.Load())
	}
}

// Housekeeping deletes sessions that ended (terminated or expired) before
// the horizon, in batches, and nothing else; the audit log stays; a feed
// client that synced after the horizon still gets every change since.
func testHousekeeping(t *testing.T, open Opener) {
	clock := NewClock()
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

func walkChanges(t testing.TB, s store.Store, orgID string, after store.ChangePos, limit int) []store.Change {
	t.Helper()
	var out []store.Change
	for {
		page, err := s.Changes(ctx, orgID, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		after = page[len(page)-1].Pos
	}
}

// The change order merges sessions, devices and audit events: strictly
// increasing positions, a sign-in's device before its session, an action's
// audit event after the rows it changed; reading after a position (also a
// head position) gives only later changes; paging changes nothing.
func testChangeFeed(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := arrange(t, s, "acme", 1)
	other := arrange(t, s, "other", 0)
	head0, err := s.ChangeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ses, dev := signIn(t, s, f.users[0].ID, func(in *store.SignIn) { in.TrustDevice = true })
	signIn(t, s, other.admin.ID, nil)
	by := store.Actor{UserID: f.admin.ID}
	if _, err := s.TerminateSession(ctx, f.org.ID, ses.ID, by); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UntrustDevice(ctx, f.org.ID, dev.ID, by); err != nil {
		t.Fatal(err)
	}
	got := walkChanges(t, s, f.org.ID, head0, 100)
	var kinds []string
	for i, c := range got {
		kinds = append(kinds, c.Kind())
		if i > 0 && !got[i-1].Pos.Less(c.Pos) {
			t.Errorf("change %d at %+v is not after %+v", i, c.Pos, got[i-1].Pos)
		}
	}
	// The session's and the device's latest states only: ended, then
	// untrusted; each action's audit event after its row.
	want := []string{store.ChangeSession, store.ChangeAudit, store.ChangeDevice, store.ChangeAudit}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("changes since the head = %v, want %v", kinds, want)
	}
	if len(got) == 4 && (got[0].Session.TerminatedAt == nil || got[2].Device.Trusted()) {
		t.Errorf("changes carry old states: %+v %+v", got[0].Session, got[2].Device)
	}
	all := walkChanges(t, s, f.org.ID, store.ChangePos{}, 1000)
	paged := walkChanges(t, s, f.org.ID, store.ChangePos{}, 1)
	if len(all) != len(paged) || len(all) < len(got) {
		t.Fatalf("walked %d changes in pages of 1, %d at once (%d since the head)", len(paged), len(all), len(got))
	}
	for i := range all {
		if all[i].Pos != paged[i].Pos {
			t.Errorf("change %d: %+v paged, %+v at once", i, paged[i].Pos, all[i].Pos)
		}
	}
	head, err := s.ChangeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after, err := s.Changes(ctx, f.org.ID, head, 10); err != nil || len(after) != 0 {
		t.Errorf("changes after the head = %d %v", len(after), err)
	}
}

// Writers on two handles sign in and end sessions while a reader follows
// the change order from its last position: at the end its view of every
// session equals the store's.
func testChangeFeedUnderWriters(t *testing.T, open Opener) {
	s, another := open(t, nil)
	s2 := another()
	f := arrange(t, s, "o", 4)
	writers, perWriter := 6, 25
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := []store.Store{s, s2}[w%2]
			for i := range perWriter {
				ses, _ := signIn(t, h, f.users[w%len(f.users)].ID, nil)
				if i%3 == 0 {
					if _, err := h.TerminateSession(ctx, f.org.ID, ses.ID, store.Actor{UserID: f.admin.ID}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	view := map[string]time.Time{}
	var pos store.ChangePos
	read := func(h store.Store) {
		for {
			page, err := h.Changes(ctx, f.org.ID, pos, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				if c.Session != nil {
					view[c.Session.ID] = c.Session.UpdatedAt
				}
				pos = c.Pos
			}
			if len(page) < 7 {
				return
			}
		}
	}
	for i := 0; ; i++ {
		select {
		case <-done:
			read(s)
			final := allSessions(t, s, f.org.ID, store.SessionFilter{Limit: 1000})
			missing := 0
			for _, x := range final {
				if got, ok := view[x.ID]; !ok || !got.Equal(x.UpdatedAt) {
					missing++
				}
			}
			if missing > 0 || len(final) != writers*perWriter {
				t.Fatalf("the change reader missed %d of %d sessions' latest state", missing, len(final))
			}
			return
		default:
			read([]store.Store{s, s2}[i%2])
		}
	}
}
