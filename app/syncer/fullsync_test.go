package syncer_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// meddler is a Source that, right after a page of sessions (the first of
// devices) of a sync, changes the platform the way other admins and users
// would while a long full sync pages: it ends a session already fetched,
// signs in anew (a new session and device), then — a few seconds later on the
// platform's clock — changes a row the walk has not reached yet.
type meddler struct {
	*platformd.Provider
	t     *testing.T
	p     *platformtest.Platform
	skew  *atomic.Int64
	once  sync.Once
	onceD sync.Once
	ended string // session ended after it was fetched
	// fetched holds the sessions the walk has fetched until it ends one.
	fetched map[string]bool
	added   string // session created during the walk
	lateS   string // session ended later, not yet fetched
	untrst  string // device untrusted after it was fetched
}

func (m *meddler) allActive(ctx context.Context) []api.Session {
	var out []api.Session
	p := platformd.ListParams{Limit: domain.MaxPage}
	for {
		page, err := m.Client().ListSessions(ctx, p)
		if err != nil {
			m.t.Errorf("list: %v", err)
			return out
		}
		out = append(out, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out
		}
		p.Cursor = *page.NextCursor
	}
}

// terminate ends session id on the platform; an empty id is reported as no
// active session where (and false returned).
func (m *meddler) terminate(ctx context.Context, id, reason, where string) bool {
	if id == "" {
		m.t.Errorf("no active session %s", where)
		return false
	}
	if _, err := m.Client().TerminateSession(ctx, id, reason); err != nil {
		m.t.Errorf("terminate: %v", err)
	}
	return true
}

// Sessions meddles after the first page that holds an active session: session
// IDs begin with their creation time, so the walk's first pages can hold only
// the oldest sessions, long expired or ended.
func (m *meddler) Sessions(ctx context.Context, p domain.PageRequest) (domain.Page[domain.Session], error) {
	page, err := m.Provider.Sessions(ctx, p)
	if err != nil || m.ended != "" {
		return page, err
	}
	if m.fetched == nil {
		m.fetched = map[string]bool{}
	}
	for _, s := range page.Items {
		m.fetched[s.ID] = true
		if m.ended == "" && s.Status == "active" && !s.Current {
			m.ended = s.ID
		}
	}
	if m.ended == "" && page.Next != "" {
		return page, nil
	}
	m.once.Do(func() {
		if page.Next == "" {
			m.t.Errorf("the page that holds the first active session is the walk's last")
			return
		}
		if !m.terminate(ctx, m.ended, "during full sync", "in the walk") {
			return
		}
		m.added = m.p.Login(m.t, "acme", "auditor@acme.test").Session.ID
		m.skew.Add(int64(5 * time.Second))
		for _, s := range m.allActive(ctx) {
			if !m.fetched[s.ID] && !s.Current && s.ID != m.added {
				m.lateS = s.ID
			}
		}
		m.terminate(ctx, m.lateS, "later", "beyond the first page")
	})
	return page, nil
}

func (m *meddler) Devices(ctx context.Context, p domain.PageRequest) (domain.Page[domain.Device], error) {
	page, err := m.Provider.Devices(ctx, p)
	if err != nil || p.Cursor != "" {
		return page, err
	}
	m.onceD.Do(func() {
		for _, d := range page.Items {
			if d.Trusted {
				m.untrst = d.ID
				break
			}
		}
		if m.untrst == "" {
			m.t.Errorf("no trusted device on the first page")
			return
		}
		if _, err := m.Client().UntrustDevice(ctx, m.untrst, "during full sync"); err != nil {
			m.t.Errorf("untrust: %v", err)
		}
		m.skew.Add(int64(5 * time.Second))
		// A row the walk reaches later is touched seconds after that.
		fetched := map[string]bool{}
		for _, d := range page.Items {
			fetched[d.ID] = true
		}
		var late string
		q := platformd.ListParams{Limit: domain.MaxPage, Trusted: "true"}
		for {
			all, err := m.Client().ListDevices(ctx, q)
			if err != nil {
				m.t.Errorf("list devices: %v", err)
				return
			}
			for _, d := range all.Items {
				if !fetched[d.ID] {
					late = d.ID
				}
			}
			if all.NextCursor == nil || *all.NextCursor == "" {
				break
			}
			q.Cursor = *all.NextCursor
		}
		if late == "" {
			m.t.Errorf("no trusted device beyond the first page")
			return
		}
		if _, err := m.Client().UntrustDevice(ctx, late, "later"); err != nil {
			m.t.Errorf("untrust: %v", err)
		}
	})
	return page, nil
}

// TestFullSyncKeepsChangesMadeWhileItPages: a change to a row the full sync
// already fetched, or a row created while it pages, must not be lost, even
// when a later page holds a row changed seconds after.
func TestFullSyncKeepsChangesMadeWhileItPages(t *testing.T) {
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	p := platformtest.Start(t, platformtest.Options{Seed: "demo", Clock: clock})
	token := p.Login(t, "acme", "admin@acme.test").Token
	c, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &meddler{Provider: platformd.NewProvider(c.WithToken(token)), t: t, p: p, skew: &skew}

	key := newKey()
	r := newRig(t, t.TempDir(), key, m, &notes{})
	ctx := context.Background()
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatalf("delta sync: %v", err)
	}

	byID := map[string]domain.Session{}
	all, err := r.store.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if _, dup := byID[s.ID]; dup {
			t.Fatalf("session %s twice in the cache", s.ID)
		}
		byID[s.ID] = s
	}
	for _, id := range []string{m.ended, m.lateS} {
		if s, ok := byID[id]; !ok || s.Status != "terminated" {
			t.Errorf("session %s: in cache %v, status %q; want terminated", id, ok, s.Status)
		}
		if s, ok := r.sessions.Get(id); !ok || s.Status != "terminated" {
			t.Errorf("index: session %s status %q; want terminated", id, s.Status)
		}
	}
	if _, ok := byID[m.added]; !ok {
		t.Errorf("session created during the full sync is not in the cache")
	}
	if _, ok := r.sessions.Get(m.added); !ok {
		t.Errorf("session created during the full sync is not in the index")
	}
	devs, err := r.store.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range devs {
		if d.ID == m.untrst {
			found = true
			if d.Trusted {
				t.Errorf("device %s untrusted during the full sync is still trusted in the cache", d.ID)
			}
		}
	}
	if !found {
		t.Errorf("device %s missing from the cache", m.untrst)
	}
	// The platform's whole picture and the cache agree.
	want := len(m.allActive(ctx))
	active := 0
	for _, s := range all {
		if s.Status == "active" && s.ExpiresAt.After(clock()) {
			active++
		}
	}
	if active != want {
		t.Errorf("cache has %d active sessions, platform %d", active, want)
	}
}
