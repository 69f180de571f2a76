package storetest

import (
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/internal/testutil"
)

func testTerminateAndAudit(t *testing.T, open Opener) {
	clock := testutil.NewClock()
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
	clock := testutil.NewClock()
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
		wg.Go(func() {
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
		})
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
		wg.Go(func() {
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
		})
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
