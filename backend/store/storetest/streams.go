package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

func lease(org, session string) store.StreamLease {
	return store.StreamLease{ID: store.NewID(store.PrefixStream), OrgID: org, SessionID: session}
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
	clock := NewClock()
	s, _ := open(t, clock.Now)
	caps := store.StreamCaps{PerSession: 2, PerOrg: 3}
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
// the session's cap and for the organization's.
func testStreamLeasesAtomic(t *testing.T, open Opener) {
	s, another := open(t, nil)
	handles := []store.Store{s, another()}
	race := func(name string, caps store.StreamCaps, session func(i int) string, want int32) {
		t.Helper()
		org := "org_" + name
		var got atomic.Int32
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				now := time.Now()
				full, err := handles[i%2].AcquireStream(ctx, lease(org, session(i)), caps, now, now.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if err == nil && full == "" {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		if got.Load() != want {
			t.Errorf("%s: %d streams got through, want exactly %d", name, got.Load(), want)
		}
	}
	race("session", store.StreamCaps{PerSession: 4, PerOrg: 100}, func(int) string { return "ses_one" }, 4)
	race("org", store.StreamCaps{PerSession: 100, PerOrg: 5}, func(i int) string { return fmt.Sprint("ses_", i) }, 5)
}
