package server_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// startLarge starts an empty platform and seeds one organization "big".
func startLarge(t *testing.T, sessions, devices int) *platformtest.Platform {
	t.Helper()
	p := platformtest.Start(t, platformtest.Options{Seed: "none"})
	seedLarge(t, p, sessions, devices)
	return p
}

func seedLarge(t testing.TB, p *platformtest.Platform, sessions, devices int) {
	t.Helper()
	if _, err := seed.Large(context.Background(), p.Store(), time.Now(), seed.LargeOptions{Slug: "big", Sessions: sessions, Devices: devices, PasswordHash: platformtest.PasswordHash(t)}); err != nil {
		t.Fatal(err)
	}
}

func TestPaginationStableUnderConcurrentWrites(t *testing.T) {
	p := startLarge(t, 3000, 400)
	ctx := context.Background()
	admin, adminLogin := signedIn(t, p, "big", "admin@big.test")
	org := orgID(t, p, "big")

	before := map[string]bool{}
	f := store.SessionFilter{Limit: 1000}
	for {
		page, err := p.Store().ListSessions(ctx, org, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			before[s.ID] = true
		}
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}

	users, err := p.Store().ListUsers(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes int
	wg.Go(func() {
		ids := make([]string, 0, len(before))
		for id := range before {
			if id != adminLogin.Session.ID { // the pager's own session
				ids = append(ids, id)
			}
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Create a session (newer than everything) and end an old one.
			_, hash, err := server.NewToken()
			if err != nil {
				t.Error(err)
				return
			}
			if _, _, err := p.Store().SignIn(ctx, store.SignIn{UserID: users[i%len(users)].ID, TokenHash: hash,
				IP: "192.0.2.1", Client: "test", Idle: time.Hour, Absolute: 2 * time.Hour}); err != nil {
				t.Error(err)
				return
			}
			if _, err := p.Store().TerminateSession(ctx, org, ids[i%len(ids)], store.Actor{UserID: adminLogin.User.ID}); err != nil {
				t.Error(err)
				return
			}
			writes++
		}
	})

	stopWriter := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriter()

	seen := map[string]int{}
	cursor := ""
	pages := 0
	for {
		q := "status=all&limit=37"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var page api.SessionList
		admin.do("GET", api.BasePath+"/sessions?"+q, nil).decode(t, 200, &page)
		for _, s := range page.Items {
			seen[s.ID]++
		}
		pages++
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		time.Sleep(time.Millisecond) // let the writer interleave
	}
	stopWriter()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("session %s seen %d times", id, n)
		}
	}
	for id := range before {
		if seen[id] != 1 {
			t.Errorf("pre-existing session %s seen %d times", id, seen[id])
		}
	}
	if writes == 0 {
		t.Error("the writer made no writes while paging")
	}
	t.Logf("%d pages, %d writes during paging", pages, writes)
}

func TestDeltaFeed(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")

	var first api.SessionList
	admin.do("GET", api.BasePath+"/sessions?limit=1", nil).decode(t, 200, &first)
	since := first.Items[0].UpdatedAt // the admin's own login
	// Nothing changed after the latest change.
	var empty api.SessionList
	admin.do("GET", api.BasePath+"/sessions?updated_since="+url.QueryEscape(maxUpdated(t, admin).Format(time.RFC3339Nano)), nil).decode(t, 200, &empty)
	if len(empty.Items) != 0 {
		t.Fatalf("feed after the last change has %d items", len(empty.Items))
	}

	changed := map[string]bool{}
	victims := activeSessions(t, p, "acme")
	for _, v := range victims[:5] {
		if v.ID == adminLogin.Session.ID {
			continue
		}
		admin.do("POST", api.BasePath+"/sessions/"+v.ID+"/terminate", nil).decode(t, 200, nil)
		changed[v.ID] = true
	}
	for range 3 {
		changed[p.Login(t, "acme", "member@acme.test").Session.ID] = true
	}
	var n api.TerminateAllResponse
	admin.do("POST", api.BasePath+"/sessions/terminate-all", nil).decode(t, 200, &n)
	// Everything active except the admin's session got terminated.
	for _, s := range admin.allSessions("status=all", 1000) {
		if s.TerminatedAt != nil && s.TerminatedAt.After(since) {
			changed[s.ID] = true
		}
	}

	var got []api.Session
	cursor := ""
	for {
		q := "updated_since=" + url.QueryEscape(since.Format(time.RFC3339Nano)) + "&limit=7"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var page api.SessionList
		admin.do("GET", api.BasePath+"/sessions?"+q, nil).decode(t, 200, &page)
		got = append(got, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	seen := map[string]bool{}
	for i, s := range got {
		if seen[s.ID] {
			t.Fatalf("feed repeats %s", s.ID)
		}
		seen[s.ID] = true
		if !s.UpdatedAt.After(since) {
			t.Fatalf("feed item updated at %v, not after %v", s.UpdatedAt, since)
		}
		if i > 0 && (s.UpdatedAt.Before(got[i-1].UpdatedAt) || s.UpdatedAt.Equal(got[i-1].UpdatedAt) && s.ID < got[i-1].ID) {
			t.Fatalf("feed not oldest first at %d", i)
		}
	}
	for id := range changed {
		if !seen[id] {
			t.Errorf("changed session %s missing from the feed", id)
		}
	}
	if len(got) < len(changed) {
		t.Errorf("feed has %d items, %d changed", len(got), len(changed))
	}

	// Devices: untrusting shows up in the device feed.
	d := trustedDevice(t, p, "acme")
	before := d.UpdatedAt
	var ud api.Device
	admin.do("POST", api.BasePath+"/devices/"+d.ID+"/untrust", nil).decode(t, 200, &ud)
	var feed api.DeviceList
	admin.do("GET", api.BasePath+"/devices?updated_since="+url.QueryEscape(ud.UpdatedAt.Add(-time.Nanosecond).Format(time.RFC3339Nano)), nil).decode(t, 200, &feed)
	if len(feed.Items) != 1 || feed.Items[0].ID != d.ID || feed.Items[0].Trusted {
		t.Errorf("device feed = %+v", feed.Items)
	}
	if !ud.UpdatedAt.After(before) {
		t.Errorf("untrust did not bump updated_at")
	}
}

func maxUpdated(t *testing.T, c *client) time.Time {
	t.Helper()
	var m time.Time
	for _, s := range c.allSessions("status=all", 1000) {
		if s.UpdatedAt.After(m) {
			m = s.UpdatedAt
		}
	}
	return m
}
