// Package storetest is the one test suite of store.Store: every store's
// tests call Run with a way to open that store, and the same cases check
// the same rules on each (SQLite and PostgreSQL today). Rules that get hard
// with several writers (strictly increasing change order, keyset cursors
// that never repeat or skip while others write, a delta feed that never
// skips a change committed late) run writers on separate handles of the
// same database, as separate processes or replicas would.
package storetest

import (
	"context"
	"fmt"
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

// AllSessions pages through the organization's sessions that f selects
// (its Limit is the page size), for tests that check what a store holds.
func AllSessions(t testing.TB, s store.Store, orgID string, f store.SessionFilter) []store.Session {
	t.Helper()
	var out []store.Session
	for {
		page, err := s.ListSessions(context.Background(), orgID, f)
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

func allSessions(t testing.TB, s store.Store, orgID string, f store.SessionFilter) []store.Session {
	t.Helper()
	return AllSessions(t, s, orgID, f)
}
