package syncer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// changes counts the listener's Changed calls.
type changes struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *changes) Changed(d string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[d]++
}
func (c *changes) Status(syncer.Status)  {}
func (c *changes) Unauthenticated(error) {}
func (c *changes) of(d string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[d]
}

// active counts the index's active sessions and reports whether keep is
// one of them.
func active(t *testing.T, tb *index.Table[domain.Session], keep string) (n int, kept bool) {
	t.Helper()
	now := time.Now()
	for s := range tb.All() {
		if index.EffectiveStatus(s, now) == domain.StatusActive {
			n++
			kept = kept || s.ID == keep
		}
	}
	return n, kept
}

// Terminate-all on a real platform, then the mark: every other active
// session reads ended at once, in the index only (the cache file keeps
// the platform's copy), and the next delta replaces each mark with the
// platform's row. A mark the platform never confirms goes at the next full
// sync; ids name single sessions.
func TestEndLocallyUntilTheSyncBringsTheTruth(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	login := p.Login(t, "acme", "admin@acme.test")
	own := login.Session.ID
	c, _ := platformd.New(p.URL(), httpx.Options{})
	prov := platformd.NewProvider(c.WithToken(login.Token))
	me, err := prov.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, t.TempDir(), newKey(), prov, nil)
	if err := r.sync.WaitLoaded(ctx); err != nil { // its load must not land after our sync
		t.Fatal(err)
	}
	heard := &changes{}
	r.sync = syncer.New(syncer.Config{Source: prov, Store: r.store, Sessions: r.sessions, Devices: r.devices,
		Audit: syncer.NewAuditTable(), Listener: heard, ServerNow: prov.Now})
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	before, kept := active(t, r.sessions, own)
	if before < 3 || !kept {
		t.Fatalf("%d active sessions after the first sync (own among them: %v)", before, kept)
	}

	res, err := prov.EndAllSessions(ctx, true, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Terminated != before-1 {
		t.Fatalf("the platform ended %d, the index held %d others active", res.Terminated, before-1)
	}
	heardBefore := heard.of("sessions")
	n := r.sync.EndLocallyWhere(func(s *domain.Session) bool { return s.ID != own }, &me.User)
	if n != before-1 {
		t.Fatalf("marked %d, want %d", n, before-1)
	}
	if got, kept := active(t, r.sessions, own); got != 1 || !kept {
		t.Fatalf("after the mark %d active (own among them: %v), want only the own one", got, kept)
	}
	if heard.of("sessions") != heardBefore+1 {
		t.Fatal("the listener did not hear the sessions change")
	}
	marks := map[string]domain.Session{}
	for s := range r.sessions.All() {
		if s.Status == domain.StatusTerminated && s.TerminatedBy != nil && s.TerminatedBy.ID == me.User.ID {
			marks[s.ID] = *s
		}
	}
	cached, err := r.store.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stillActive := 0
	for _, s := range cached {
		if _, marked := marks[s.ID]; marked && s.Status == domain.StatusActive {
			stillActive++
			if s.UpdatedAt != marks[s.ID].UpdatedAt {
				t.Fatalf("mark of %s moved UpdatedAt: %v, cache %v", s.ID, marks[s.ID].UpdatedAt, s.UpdatedAt)
			}
		}
	}
	if stillActive != n {
		t.Fatalf("the cache file holds %d of the %d marked sessions active, want all (marks are not written)", stillActive, n)
	}
	if again := r.sync.EndLocallyWhere(func(*domain.Session) bool { return true }, nil); again != 1 {
		// Only the own session was left active: marked wrongly on purpose,
		// to see a full sync take it back below.
		t.Fatalf("second mark changed %d rows, want 1 (ended ones are left alone)", again)
	}

	// The delta brings the platform's rows: each replaces its mark.
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	cached, _ = r.store.Sessions(ctx)
	byID := map[string]domain.Session{}
	for _, s := range cached {
		byID[s.ID] = s
	}
	for id := range marks {
		got, _ := r.sessions.Get(id)
		want := byID[id]
		if got.Status != domain.StatusTerminated || want.Status != domain.StatusTerminated ||
			!got.UpdatedAt.Equal(want.UpdatedAt) || got.TerminatedAt == nil || !got.TerminatedAt.Equal(*want.TerminatedAt) {
			t.Fatalf("%s after the delta: index %s %v, platform %s %v", id, got.Status, got.UpdatedAt, want.Status, want.UpdatedAt)
		}
	}
	// The own session's wrong mark: the platform never changed it, so no
	// delta brings it; the next full sync does.
	if s, _ := r.sessions.Get(own); s.Status != domain.StatusTerminated {
		t.Fatalf("own session %s after a delta that did not carry it", s.Status)
	}
	if _, err := r.sync.SyncFull(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.sessions.Get(own); s.Status != domain.StatusActive {
		t.Fatalf("own session %s after a full sync, want active", s.Status)
	}

	// By id: one session of a new sign-in, an unknown id, an ended one.
	// The cache's mark, read before the sign-in, bounds every row held
	// then and not the new one (the bound of what a bulk end may mark).
	mark, err := r.sync.SessionsMark(ctx)
	if err != nil || mark.IsZero() {
		t.Fatalf("SessionsMark: %v %v", mark, err)
	}
	for s := range r.sessions.All() {
		if s.UpdatedAt.After(mark) {
			t.Fatalf("%s changed at %v, after the cache's mark %v", s.ID, s.UpdatedAt, mark)
		}
	}
	victim := p.Login(t, "acme", "member@acme.test")
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.sessions.Get(victim.Session.ID); !s.UpdatedAt.After(mark) {
		t.Fatalf("a sign-in after the mark was read reads %v, not after it (%v)", s.UpdatedAt, mark)
	}
	if _, err := prov.EndSessions(ctx, []string{victim.Session.ID}, "test"); err != nil {
		t.Fatal(err)
	}
	var ended string
	for id := range marks {
		ended = id
		break
	}
	if got := r.sync.EndLocally([]string{victim.Session.ID, "no-such-session", ended}, nil); got != 1 {
		t.Fatalf("EndLocally marked %d, want 1", got)
	}
	if s, _ := r.sessions.Get(victim.Session.ID); s.Status != domain.StatusTerminated || s.TerminatedAt == nil {
		t.Fatalf("victim after EndLocally: %s", s.Status)
	}
	if r.sync.EndLocally(nil, nil) != 0 {
		t.Fatal("EndLocally of no ids marked rows")
	}
}

// gate holds the sessions list's answers while armed: a sync in flight,
// holding the sync lock, for as long as the test wants.
type gate struct {
	proxy   *httputil.ReverseProxy
	mu      sync.Mutex
	hold    chan struct{} // nil: pass
	waiting chan struct{} // closed when the first held request arrives
}

func (g *gate) arm() {
	g.mu.Lock()
	g.hold, g.waiting = make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/sessions") {
		g.mu.Lock()
		hold, waiting := g.hold, g.waiting
		if waiting != nil {
			close(waiting)
			g.waiting = nil
		}
		g.mu.Unlock()
		if hold != nil {
			<-hold
		}
	}
	g.proxy.ServeHTTP(w, r)
}

// A mark does not wait for a sync in flight (one at a million rows takes
// minutes): it is an index write, not a sync.
func TestEndLocallyDoesNotWaitForASync(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	u, _ := url.Parse(p.URL())
	g := &gate{proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(g)
	defer srv.Close()
	c, _ := platformd.New(srv.URL, httpx.Options{})
	r := newRig(t, t.TempDir(), newKey(), platformd.NewProvider(c.WithToken(token)), nil)
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	g.arm()
	g.mu.Lock()
	waiting, hold := g.waiting, g.hold
	g.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := r.sync.SyncNow(ctx)
		done <- err
	}()
	<-waiting
	start := time.Now()
	n := r.sync.EndLocallyWhere(func(*domain.Session) bool { return true }, nil)
	took := time.Since(start)
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n == 0 || took > 2*time.Second {
		t.Fatalf("marked %d rows in %v while a sync was in flight", n, took)
	}
}

// BenchmarkEndLocallyWhere is terminate-all's mark at 100,000 and
// 1,000,000 sessions (every other one active, one person's kept out), with
// the default order in use as in the app: every chunk is copied and the
// order sorted again. Run one size at a time, e.g.
// -bench 'EndLocallyWhere/1M' -benchtime 3x -benchmem (/1M needs ~3 GB).
func BenchmarkEndLocallyWhere(b *testing.B) {
	for _, n := range []struct {
		name string
		rows int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(n.name, func(b *testing.B) {
			now := time.Now()
			rows := make([]domain.Session, n.rows)
			for i := range rows {
				st := domain.StatusActive
				if i%2 == 1 {
					st = domain.StatusTerminated
				}
				u := i % 5000
				rows[i] = domain.Session{ID: fmt.Sprintf("s%07d", i),
					User: domain.Person{ID: fmt.Sprintf("u%04d", u), Email: fmt.Sprintf("user%04d@acme.test", u), Name: "Person"},
					IP:   fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Client: "Firefox 133 on Linux", Location: "Berlin, DE",
					Status: st, CreatedAt: now.Add(-time.Duration(i) * time.Second), LastActiveAt: now.Add(-time.Duration(i%86400) * time.Second),
					ExpiresAt: now.Add(time.Hour), UpdatedAt: now.Add(-time.Duration(i) * time.Second)}
			}
			b.ReportAllocs()
			var marked int
			for b.Loop() {
				b.StopTimer()
				tb := index.NewSessions()
				tb.Replace(rows)
				tb.Find(index.Query[domain.Session]{Sort: index.DefaultSessionSort, Limit: 100}, "")
				s := syncer.New(syncer.Config{Sessions: tb})
				b.StartTimer()
				marked = s.EndLocallyWhere(func(x *domain.Session) bool { return x.User.ID != "u0000" }, nil)
			}
			b.ReportMetric(float64(marked), "marked")
		})
	}
}
