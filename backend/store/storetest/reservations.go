package storetest

// Reservations every store makes atomically across processes: stream
// leases (the caps on live event streams) and sign-in throttle slots.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/internal/testutil"
)

// lease is a stream lease of the session, whose user is named after it.
func lease(org, session string) store.StreamLease {
	return userLease(org, session, "usr_of_"+session)
}

func userLease(org, session, user string) store.StreamLease {
	return store.StreamLease{ID: store.NewID(store.PrefixStream), OrgID: org, SessionID: session, UserID: user}
}

// acquire asks for l to expire ttl after now and returns the full cap ("":
// granted).
func acquire(t *testing.T, s store.Store, l store.StreamLease, caps store.StreamCaps, now time.Time, ttl time.Duration) string {
	t.Helper()
	full, err := s.AcquireStream(ctx, l, caps, now, now.Add(ttl))
	if err != nil {
		t.Fatalf("acquire %+v: %v", l, err)
	}
	return full
}

// testStreamLeases: the caps count unexpired leases per session and per
// organization; a release frees a place, an expired lease (its process
// died) frees its place by itself, a renewal keeps it, and a renewal stores
// a lease again that was lost.
func testStreamLeases(t *testing.T, open Opener) {
	clock := testutil.NewClock()
	s, _ := open(t, clock.Now)
	caps := store.StreamCaps{PerSession: 2, PerUser: 100, PerOrg: 3}
	ttl := 30 * time.Second
	a1, a2, b1 := lease("org_a", "ses_1"), lease("org_a", "ses_1"), lease("org_a", "ses_2")
	for _, l := range []store.StreamLease{a1, a2, b1} {
		if full := acquire(t, s, l, caps, clock.Now(), ttl); full != "" {
			t.Fatalf("%+v refused (%s) under the caps", l, full)
		}
	}
	if full := acquire(t, s, lease("org_a", "ses_1"), caps, clock.Now(), ttl); full != store.StreamCapSession {
		t.Errorf("a session's 3rd stream with a cap of 2: %q, want %q", full, store.StreamCapSession)
	}
	if full := acquire(t, s, lease("org_a", "ses_3"), caps, clock.Now(), ttl); full != store.StreamCapOrg {
		t.Errorf("an organization's 4th stream with a cap of 3: %q, want %q", full, store.StreamCapOrg)
	}
	// Another organization has its own caps.
	if full := acquire(t, s, lease("org_b", "ses_9"), caps, clock.Now(), ttl); full != "" {
		t.Errorf("another organization's stream: %q", full)
	}

	// A release frees its place at once; releasing again is no error.
	if err := s.ReleaseStream(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseStream(ctx, a1.ID); err != nil {
		t.Errorf("second release: %v", err)
	}
	a3 := lease("org_a", "ses_1")
	if full := acquire(t, s, a3, caps, clock.Now(), ttl); full != "" {
		t.Fatalf("after a release: %q", full)
	}

	// a2 and a3 are renewed, b1 is not (its process died): once the TTL has
	// passed, only b1's place is free.
	clock.Advance(ttl / 2)
	if err := s.RenewStreams(ctx, []store.StreamLease{a2, a3}, clock.Now().Add(ttl)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(ttl / 2)
	if full := acquire(t, s, lease("org_a", "ses_1"), caps, clock.Now(), ttl); full != store.StreamCapSession {
		t.Errorf("renewed leases stopped counting: %q", full)
	}
	b2 := lease("org_a", "ses_2")
	if full := acquire(t, s, b2, caps, clock.Now(), ttl); full != "" {
		t.Errorf("an expired lease still counts: %q", full)
	}
	if full := acquire(t, s, lease("org_a", "ses_4"), caps, clock.Now(), ttl); full != store.StreamCapOrg {
		t.Errorf("the organization with a2, a3, b2: %q, want %q", full, store.StreamCapOrg)
	}

	// A lease lost meanwhile (released here as a stand-in for one deleted
	// while its process could not renew) is stored again by the renewal.
	if err := s.ReleaseStream(ctx, b2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewStreams(ctx, []store.StreamLease{a2, a3, b2}, clock.Now().Add(ttl)); err != nil {
		t.Fatal(err)
	}
	if full := acquire(t, s, lease("org_a", "ses_5"), caps, clock.Now(), ttl); full != store.StreamCapOrg {
		t.Errorf("a renewal did not store a lost lease again: %q", full)
	}
	if err := s.RenewStreams(ctx, nil, clock.Now()); err != nil {
		t.Errorf("renewing nothing: %v", err)
	}
}

// testStreamLeasesAtomic: many parallel acquisitions through two handles
// (two replicas) on the last free places: exactly the cap get through, for
// the session's cap, the user's and the organization's.
func testStreamLeasesAtomic(t *testing.T, open Opener) {
	s, another := open(t, nil)
	handles := []store.Store{s, another()}
	var raceLeases func(name string, caps store.StreamCaps, lease func(i int) store.StreamLease, want int32)
	race := func(name string, caps store.StreamCaps, session func(i int) string, want int32) {
		t.Helper()
		raceLeases(name, caps, func(i int) store.StreamLease { return lease("org_"+name, session(i)) }, want)
	}
	raceLeases = func(name string, caps store.StreamCaps, lease func(i int) store.StreamLease, want int32) {
		t.Helper()
		var got atomic.Int32
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				now := time.Now()
				full, err := handles[i%2].AcquireStream(ctx, lease(i), caps, now, now.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if err == nil && full == "" {
					got.Add(1)
				}
			})
		}
		wg.Wait()
		if got.Load() != want {
			t.Errorf("%s: %d streams got through, want exactly %d", name, got.Load(), want)
		}
	}
	race("session", store.StreamCaps{PerSession: 4, PerUser: 100, PerOrg: 100}, func(int) string { return "ses_one" }, 4)
	race("org", store.StreamCaps{PerSession: 100, PerUser: 100, PerOrg: 5}, func(i int) string { return fmt.Sprint("ses_", i) }, 5)
	// One user's streams on many sessions.
	user := func(i int) store.StreamLease { return userLease("org_user", fmt.Sprint("ses_", i), "usr_one") }
	raceLeases("user", store.StreamCaps{PerSession: 100, PerUser: 6, PerOrg: 100}, user, 6)
}

// testStreamLeasesPerUser: a user's streams count over all of the user's
// sessions, between the session's cap and the organization's; another user
// of the organization is not held back by them; a release frees a place,
// and a lease stored again by a renewal counts for its user again.
func testStreamLeasesPerUser(t *testing.T, open Opener) {
	clock := testutil.NewClock()
	s, _ := open(t, clock.Now)
	caps := store.StreamCaps{PerSession: 2, PerUser: 3, PerOrg: 10}
	ttl := 30 * time.Second
	a1, a2, a3 := userLease("org_a", "ses_1", "usr_a"), userLease("org_a", "ses_1", "usr_a"), userLease("org_a", "ses_2", "usr_a")
	for _, l := range []store.StreamLease{a1, a2, a3} {
		if full := acquire(t, s, l, caps, clock.Now(), ttl); full != "" {
			t.Fatalf("%+v refused (%s) under the caps", l, full)
		}
	}
	// The session's cap comes first: ses_1 holds 2 of 2.
	if full := acquire(t, s, userLease("org_a", "ses_1", "usr_a"), caps, clock.Now(), ttl); full != store.StreamCapSession {
		t.Errorf("a session's 3rd stream: %q, want %q", full, store.StreamCapSession)
	}
	for _, ses := range []string{"ses_2", "ses_3"} {
		if full := acquire(t, s, userLease("org_a", ses, "usr_a"), caps, clock.Now(), ttl); full != store.StreamCapUser {
			t.Errorf("the user's 4th stream, on %s: %q, want %q", ses, full, store.StreamCapUser)
		}
	}
	if full := acquire(t, s, userLease("org_a", "ses_9", "usr_b"), caps, clock.Now(), ttl); full != "" {
		t.Errorf("another user's stream: %q", full)
	}
	if err := s.ReleaseStream(ctx, a3.ID); err != nil {
		t.Fatal(err)
	}
	a4 := userLease("org_a", "ses_3", "usr_a")
	if full := acquire(t, s, a4, caps, clock.Now(), ttl); full != "" {
		t.Fatalf("after a release: %q", full)
	}
	// A lost lease, stored again by its renewal, counts for its user.
	if err := s.ReleaseStream(ctx, a4.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewStreams(ctx, []store.StreamLease{a1, a2, a4}, clock.Now().Add(ttl)); err != nil {
		t.Fatal(err)
	}
	if full := acquire(t, s, userLease("org_a", "ses_4", "usr_a"), caps, clock.Now(), ttl); full != store.StreamCapUser {
		t.Errorf("a renewal did not store the user of a lost lease: %q", full)
	}
	// Expired leases stop counting for their user.
	clock.Advance(ttl + time.Second)
	if full := acquire(t, s, userLease("org_a", "ses_4", "usr_a"), caps, clock.Now(), ttl); full != "" {
		t.Errorf("after the leases expired: %q", full)
	}
}

func testThrottleReservations(t *testing.T, open Opener) {
	clock := testutil.NewClock()
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
		wg.Go(func() {
			r, err := handles[i%2].ReserveAttempt(ctx, keys, time.Now(), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if r.OK {
				got.Add(1)
			}
		})
	}
	wg.Wait()
	if got.Load() != 5 {
		t.Errorf("%d reservations got through, want exactly 5", got.Load())
	}
}
