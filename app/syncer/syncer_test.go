package syncer_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// cutter proxies to the real platform and, when armed, cuts the connection
// of every sessions-list request after the first `allow` ones.
type cutter struct {
	proxy *httputil.ReverseProxy
	armed atomic.Bool
	allow int32
	seen  atomic.Int32
	cuts  atomic.Int32
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.armed.Load() && strings.HasSuffix(r.URL.Path, "/sessions") {
		if c.seen.Add(1) > c.allow {
			c.cuts.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the platform "dies" mid-sync
			}
			return
		}
	}
	c.proxy.ServeHTTP(w, r)
}

type notes struct {
	mu        sync.Mutex
	got       []domain.Device // every device announced, alone or in a summary
	calls     int             // notifications shown
	summaries int             // of which summaries
}

func (n *notes) NewDevice(_ context.Context, d domain.Device, _ string) error {
	n.mu.Lock()
	n.got = append(n.got, d)
	n.calls++
	n.mu.Unlock()
	return nil
}

func (n *notes) NewDevices(_ context.Context, ds []domain.Device) error {
	n.mu.Lock()
	n.got = append(n.got, ds...)
	n.calls++
	n.summaries++
	n.mu.Unlock()
	return nil
}

// count is how many devices were announced.
func (n *notes) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.got)
}

func (n *notes) shown() (calls, summaries int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls, n.summaries
}

type rig struct {
	store    *cache.Store
	sessions *index.Table[domain.Session]
	devices  *index.Table[domain.Device]
	sync     *syncer.Syncer
}

// newKey is a fresh random cache key.
func newKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

// openCache opens profile "p"'s cache in dir, closed at cleanup.
func openCache(t *testing.T, dir string, key []byte) *cache.Store {
	t.Helper()
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newRig(t *testing.T, dir string, key []byte, src syncer.Source, n syncer.Notifier) *rig {
	t.Helper()
	st := openCache(t, dir, key)
	r := &rig{store: st, sessions: index.NewSessions(), devices: index.NewDevices()}
	r.sync = syncer.New(syncer.Config{Source: src, Store: st, Sessions: r.sessions, Devices: r.devices,
		Audit: syncer.NewAuditTable(), Notifier: n, PageSize: 10})
	if err := r.sync.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func ids(ss []domain.Session) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID+"/"+s.Status+"/"+s.UpdatedAt.String())
	}
	slices.Sort(out)
	return out
}

func TestInterruptedSyncKeepsPreviousSnapshot(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	u, _ := url.Parse(p.URL())
	cut := &cutter{proxy: httputil.NewSingleHostReverseProxy(u), allow: 2}
	srv := httptest.NewServer(cut)
	defer srv.Close()
	c, _ := platformd.New(srv.URL, httpx.Options{CallTimeout: 2 * time.Second, RetryMax: 2,
		RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond})
	c = c.WithToken(token)

	dir := t.TempDir()
	key := newKey()
	n := &notes{}
	r := newRig(t, dir, key, platformd.NewProvider(c), n)
	if _, err := r.sync.SyncNow(context.Background()); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	snapshot, _ := r.store.Sessions(context.Background())
	stateBefore, _ := r.store.State(context.Background())

	// Enough changes for a delta of several pages (page size 10): new
	// sign-ins (new sessions and new devices) and a termination.
	for i := 0; i < 25; i++ {
		p.Login(t, "acme", "auditor@acme.test")
	}
	cut.armed.Store(true)
	st, err := r.sync.SyncNow(context.Background())
	if err == nil || !domain.IsUnreachable(err) || st.Online {
		t.Fatalf("interrupted sync: err=%v status=%+v", err, st)
	}
	if cut.seen.Load() <= cut.allow || cut.cuts.Load() == 0 {
		t.Fatalf("the proxy did not cut mid-sync (seen %d)", cut.seen.Load())
	}

	// In memory and on disk (a new handle, as after a crash): the previous
	// snapshot, whole; no new device announced.
	after, _ := r.store.Sessions(context.Background())
	if !slices.Equal(ids(after), ids(snapshot)) {
		t.Fatalf("cache changed by an interrupted sync: %d → %d rows", len(snapshot), len(after))
	}
	if r.sessions.Len() != len(snapshot) {
		t.Fatalf("index changed: %d rows, want %d", r.sessions.Len(), len(snapshot))
	}
	stateAfter, _ := r.store.State(context.Background())
	if stateAfter != stateBefore {
		t.Fatalf("sync state moved: %+v → %+v", stateBefore, stateAfter)
	}
	r.store.Close()
	r2 := newRig(t, dir, key, platformd.NewProvider(c), n)
	reopened, _ := r2.store.Sessions(context.Background())
	if !slices.Equal(ids(reopened), ids(snapshot)) {
		t.Fatal("reopened cache differs from the previous snapshot")
	}
	if n.count() != 0 {
		t.Fatalf("%d notifications from an interrupted sync", n.count())
	}

	// The platform is back: the next sync catches up.
	cut.armed.Store(false)
	if _, err := r2.sync.SyncNow(context.Background()); err != nil {
		t.Fatalf("sync after recovery: %v", err)
	}
	caught, _ := r2.store.Sessions(context.Background())
	if len(caught) != len(snapshot)+25 {
		t.Fatalf("after recovery %d sessions, want %d", len(caught), len(snapshot)+25)
	}
	if n.count() != 25 {
		t.Fatalf("new devices announced: %d, want 25", n.count())
	}
	// 25 at once after the outage: one summary, not 25 bubbles.
	if calls, summaries := n.shown(); calls != 1 || summaries != 1 {
		t.Fatalf("notifications shown: %d (%d summaries), want one summary", calls, summaries)
	}
	// A second sync brings nothing new and announces nothing.
	if _, err := r2.sync.SyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.count() != 25 {
		t.Fatalf("announced again: %d", n.count())
	}
}
