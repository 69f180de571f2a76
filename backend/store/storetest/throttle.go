package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/internal/testutil"
)

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
