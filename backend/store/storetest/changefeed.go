package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

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
	done := signInAndEndConcurrently(t, []store.Store{s, s2}, f, writers, perWriter)

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

// signInAndEndConcurrently runs writers goroutines, alternating between
// the handles hs, each signing in perWriter times (ending every third
// session) for one of f's users; done closes when all have finished.
func signInAndEndConcurrently(t testing.TB, hs []store.Store, f fixture, writers, perWriter int) (done <-chan struct{}) {
	var wg sync.WaitGroup
	closed := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			h := hs[w%len(hs)]
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
		})
	}
	go func() { wg.Wait(); close(closed) }()
	return closed
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
	done := signInAndEndConcurrently(t, []store.Store{s, s2}, f, writers, perWriter)
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
