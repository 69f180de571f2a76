package syncer_test

import (
	"context"
	"fmt"
	"testing"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// A burst of audit events larger than one sync reads (a long offline gap)
// must not leave a permanent hole: the sync that hits its page cap keeps a
// resume cursor with the data, and the next syncs — after a restart too —
// read on from there until they reach the events already held.
func TestAuditBurstBeyondPageCapIsReadOnLaterSyncs(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	c, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithToken(token)
	ctx := context.Background()
	dir := t.TempDir()
	key := newKey()

	type rig struct {
		store *cache.Store
		audit *index.Table[domain.AuditEvent]
		sync  *syncer.Syncer
	}
	open := func() *rig {
		st := openCache(t, dir, key)
		r := &rig{store: st, audit: syncer.NewAuditTable()}
		// One sync reads a probe of 10 and 2 pages of 10 from each place.
		r.sync = syncer.New(syncer.Config{Source: platformd.NewProvider(c), Store: st, Sessions: index.NewSessions(), Devices: index.NewDevices(),
			Audit: r.audit, PageSize: 10, AuditPages: 2})
		if err := r.sync.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	settle := func(r *rig) int {
		t.Helper()
		for i := 1; i <= 50; i++ {
			if _, err := r.sync.SyncNow(ctx); err != nil {
				t.Fatal(err)
			}
			if left, err := r.store.AuditResume(ctx); err != nil {
				t.Fatal(err)
			} else if len(left) == 0 {
				return i
			}
		}
		t.Fatal("the audit log never caught up")
		return 0
	}
	platformAudit := func() map[string]bool {
		out := map[string]bool{}
		for _, id := range platformAuditIDs(t, c) {
			out[id] = true
		}
		return out
	}
	cached := func(r *rig) map[string]bool {
		out := map[string]bool{}
		evs, err := r.store.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			out[e.ID] = true
		}
		return out
	}

	r := open()
	settle(r)

	// A burst of 100 events: more than the 30 one sync reads.
	addAuditEvents(t, c, 100, "burst")
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := r.store.AuditResume(ctx)
	if err != nil || len(left) != 1 {
		t.Fatalf("after a capped sync: resume cursors %v, %v; want one", left, err)
	}
	// A restart in between: the cursor lives in the cache.
	r.store.Close()
	r = open()
	if err := r.sync.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	if n := settle(r); n < 2 {
		t.Fatalf("caught up in %d syncs; the burst needs several", n)
	}

	want, got := platformAudit(), cached(r)
	for id := range want {
		if !got[id] {
			t.Errorf("audit event %s on the platform is missing from the cache", id)
		}
	}
	if len(got) != len(want) || r.audit.Len() != len(want) {
		t.Fatalf("cache holds %d audit events, index %d, platform %d", len(got), r.audit.Len(), len(want))
	}
}

// Up to MaxSeparateNotifications new devices in one sync are announced one
// by one; more make one summary notification.
func TestManyNewDevicesMakeOneSummary(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	c, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := newKey()
	n := &notes{}
	r := newRig(t, t.TempDir(), key, platformd.NewProvider(c.WithToken(token)), n)
	ctx := context.Background()
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < syncer.MaxSeparateNotifications; i++ {
		p.Login(t, "acme", "auditor@acme.test")
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	if calls, summaries := n.shown(); calls != syncer.MaxSeparateNotifications || summaries != 0 || n.count() != calls {
		t.Fatalf("%d new devices: %d notifications, %d summaries", n.count(), calls, summaries)
	}
	for i := 0; i <= syncer.MaxSeparateNotifications; i++ {
		p.Login(t, "acme", "member@acme.test")
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	calls, summaries := n.shown()
	if calls != syncer.MaxSeparateNotifications+1 || summaries != 1 || n.count() != 2*syncer.MaxSeparateNotifications+1 {
		t.Fatalf("after %d more: %d notifications, %d summaries, %d devices", syncer.MaxSeparateNotifications+1, calls, summaries, n.count())
	}
}

// addAuditEvents adds n events to the platform's audit log, each the end of
// one active session (not the caller's): since v1.2 a bulk end that ends
// nothing is not audited, so repeating terminate-all adds only one event.
// platformAuditIDs is the platform's whole audit log, newest first, as c
// reads it.
func platformAuditIDs(t *testing.T, c *platformd.Client) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		page, err := c.ListAudit(context.Background(), domain.MaxPage, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		cursor = *page.NextCursor
	}
}

func addAuditEvents(t *testing.T, c *platformd.Client, n int, what string) {
	t.Helper()
	ctx := context.Background()
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.ListSessions(ctx, platformd.ListParams{Status: "active", Limit: domain.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, s := range l.Items {
		if added == n {
			return
		}
		if s.ID == me.SessionID {
			continue
		}
		if _, err := c.TerminateSession(ctx, s.ID, fmt.Sprintf("%s %d", what, added)); err != nil {
			t.Fatal(err)
		}
		added++
	}
	t.Fatalf("only %d active sessions to end for %d audit events", added, n)
}
