package syncer_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/internal/faultproxy/faultproxytest"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// firstPages counts the sessions requests that start the feed over (no
// cursor): a sync that resumes asks for page one only once.
type firstPages struct {
	*platformd.Provider
	starts atomic.Int32
}

func (f *firstPages) Sessions(ctx context.Context, p domain.PageRequest) (domain.Page[domain.Session], error) {
	if p.Cursor == "" {
		f.starts.Add(1)
	}
	return f.Provider.Sessions(ctx, p)
}

// faultSync is a syncer on a real cache file, with its indexes.
type faultSync struct {
	sync     *syncer.Syncer
	store    *cache.Store
	sessions *index.Table[domain.Session]
	audit    *index.Table[domain.AuditEvent]
}

// openFaultSync fills cfg's cache and indexes and loads the syncer.
func openFaultSync(t *testing.T, cfg syncer.Config) *faultSync {
	t.Helper()
	st := openCache(t, t.TempDir(), newKey())
	r := &faultSync{store: st, sessions: index.NewSessions(), audit: syncer.NewAuditTable()}
	cfg.Store, cfg.Sessions, cfg.Devices, cfg.Audit = st, r.sessions, index.NewDevices(), r.audit
	cfg.Words = desk.SyncWords(profile.ProviderPlatformd) // the sentences the user reads
	r.sync = syncer.New(cfg)
	if err := r.sync.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func faultRig(t *testing.T, src syncer.Source, pageSize int, clock func() time.Time) (*syncer.Syncer, *index.Table[domain.Session]) {
	t.Helper()
	r := openFaultSync(t, syncer.Config{Source: src, PageSize: pageSize, Clock: clock})
	return r.sync, r.sessions
}

func proxied(t *testing.T, p *platformtest.Platform, f faultproxy.Faults) *faultproxy.Proxy {
	t.Helper()
	return faultproxytest.Start(t, p.URL(), f)
}

func countAll(t *testing.T, c *platformd.Client) int {
	t.Helper()
	n, p := 0, platformd.ListParams{Status: "all", Limit: domain.MaxPage}
	for {
		page, err := c.ListSessions(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == nil {
			return n
		}
		p.Cursor = *page.NextCursor
	}
}

// With many answers cut mid-body (more than the client's retries can hide),
// a full sync still completes: each sync resumes from the last good cursor
// with the pages gathered so far, and the status never says the platform
// cannot be reached while it answers.
func TestFullSyncResumesThroughMidBodyResets(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	fp := proxied(t, p, faultproxy.Faults{Match: func(path string) bool { return strings.HasSuffix(path, "/sessions") }, ResetRate: 0.5})
	fp.Seed(3)
	c, _ := platformd.New(fp.URL(), httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	src := &firstPages{Provider: platformd.NewProvider(c.WithToken(token))}
	s, sessions := faultRig(t, src, 10, nil)

	var failed int
	for attempt := 0; ; attempt++ {
		if attempt > 60 {
			t.Fatalf("no complete sync in %d attempts (%d resets)", attempt, fp.Resets.Load())
		}
		st, err := s.SyncNow(context.Background())
		if err == nil {
			break
		}
		failed++
		if !domain.Answered(err) {
			t.Fatalf("sync %d: %v, want an answered-but-broken error", attempt, err)
		}
		if !st.Online || strings.Contains(st.LastError, "cannot be reached") {
			t.Fatalf("sync %d: status %+v while the platform answers", attempt, st)
		}
	}
	if failed == 0 {
		t.Fatalf("no sync broke off (%d resets): the test proves nothing", fp.Resets.Load())
	}
	if got := src.starts.Load(); got != 1 {
		t.Fatalf("the sessions feed was started %d times over %d broken syncs; want once (resume)", got, failed)
	}
	direct, _ := platformd.New(p.URL(), httpx.Options{})
	if want := countAll(t, direct.WithToken(token)); sessions.Len() != want {
		t.Fatalf("synced %d sessions, the platform has %d", sessions.Len(), want)
	}
}

// A link too slow for a 1000-row page within the limits still syncs: the
// body is not cut while it arrives, and the page size shrinks.
func TestSlowLinkSyncsWithSmallerPages(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	fp := proxied(t, p, faultproxy.Faults{BytesPerSec: 48 << 10})
	c, _ := platformd.New(fp.URL(), httpx.Options{CallTimeout: time.Second, FirstByteTimeout: time.Second, IdleTimeout: time.Second})
	c = c.WithToken(token)
	s, sessions := faultRig(t, platformd.NewProvider(c), domain.MaxPage, nil)
	if _, err := s.SyncNow(context.Background()); err != nil {
		t.Fatalf("sync over a 48 KB/s link: %v", err)
	}
	if got := s.PageSize(); got >= domain.MaxPage {
		t.Fatalf("page size %d after slow pages; want it smaller", got)
	}
	direct, _ := platformd.New(p.URL(), httpx.Options{})
	if want := countAll(t, direct.WithToken(token)); sessions.Len() != want {
		t.Fatalf("synced %d sessions, the platform has %d", sessions.Len(), want)
	}
}

// After a 429 (and a 503) with Retry-After: 120, nothing is sent for two
// minutes (on the syncer's clock), and the status says so.
func TestRetryAfterIsWaitedOut(t *testing.T) {
	for _, status := range []int{429, 503} {
		p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
		token := p.Login(t, "acme", "admin@acme.test").Token
		fp := proxied(t, p, faultproxy.Faults{Status: status, StatusCount: 1, RetryAfter: 120 * time.Second})
		c, _ := platformd.New(fp.URL(), httpx.Options{})
		var now atomic.Int64
		now.Store(time.Now().UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()) }
		s, _ := faultRig(t, platformd.NewProvider(c.WithToken(token)), 100, clock)

		st, err := s.SyncNow(context.Background())
		if err == nil {
			t.Fatalf("%d: sync passed through the injected status", status)
		}
		if st.LastError != "Platform busy — retrying in 2 min" || !st.Online || st.RetryAt == nil {
			t.Fatalf("%d: status %+v", status, st)
		}
		sent := fp.Requests.Load()

		// The loop and explicit syncs alike wait.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		time.Sleep(300 * time.Millisecond)
		now.Add(int64(60 * time.Second))
		st, _ = s.SyncNow(context.Background())
		cancel()
		<-done
		if got := fp.Requests.Load(); got != sent {
			t.Fatalf("%d: %d requests sent during the wait", status, got-sent)
		}
		if st.LastError != "Platform busy — retrying in 60 s" {
			t.Fatalf("%d: status during the wait %+v", status, st)
		}

		now.Add(int64(61 * time.Second))
		if st, err := s.SyncNow(context.Background()); err != nil || st.LastError != "" || st.RetryAt != nil {
			t.Fatalf("%d: sync after the wait: %v %+v", status, err, st)
		}
	}
}

// A 503 without Retry-After, left after the retries, is "busy", not
// "cannot be reached": the platform answered.
func TestBusyWithoutRetryAfterIsNotOffline(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	fp := proxied(t, p, faultproxy.Faults{Status: 503, StatusCount: 100})
	c, _ := platformd.New(fp.URL(), httpx.Options{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	s, _ := faultRig(t, platformd.NewProvider(c.WithToken(token)), 100, nil)
	st, err := s.SyncNow(context.Background())
	if err == nil || !st.Online || st.LastError != "Platform busy — the next sync tries again." || st.RetryAt != nil {
		t.Fatalf("after 503s: %v %+v", err, st)
	}
}
