package platformd_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/internal/testutil"

	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// notes records the syncer's new-device notifications.
type notes struct {
	mu    sync.Mutex
	calls []domain.Device
	at    []time.Time
}

func (n *notes) NewDevice(_ context.Context, d domain.Device, _ string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, d)
	n.at = append(n.at, time.Now())
	return nil
}

func (n *notes) NewDevices(_ context.Context, ds []domain.Device) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, ds...)
	n.at = append(n.at, time.Now())
	return nil
}

func (n *notes) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.calls)
}

// statuses records what the syncer reports.
type statuses struct {
	mu   sync.Mutex
	last syncer.Status
}

func (s *statuses) Changed(string)          {}
func (s *statuses) Unauthenticated(error)   {}
func (s *statuses) Status(st syncer.Status) { s.mu.Lock(); s.last = st; s.mu.Unlock() }
func (s *statuses) get() syncer.Status      { s.mu.Lock(); defer s.mu.Unlock(); return s.last }

type rig struct {
	store    *cache.Store
	sessions *index.Table[domain.Session]
	sync     *syncer.Syncer
	notes    *notes
	status   *statuses
	ended    chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
}

// start opens a profile's cache (a real file), syncs it once and holds the
// stream against the platform at base.
func start(t *testing.T, base, token string, cfg platformd.StreamConfig) *rig {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	st, _, err := cache.Open(ctx, cache.Options{Dir: t.TempDir(), Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := platformd.New(base, httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithToken(token)
	r := &rig{store: st, sessions: index.NewSessions(), notes: &notes{}, status: &statuses{},
		ended: make(chan struct{}), done: make(chan struct{})}
	r.sync = syncer.New(syncer.Config{Source: platformd.NewProvider(c), Store: st, Sessions: r.sessions, Devices: index.NewDevices(),
		Audit: syncer.NewAuditTable(), Notifier: r.notes, Listener: r.status, Interval: time.Hour})
	if err := r.sync.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.sync.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Client, cfg.Target = c, r.sync
	var once sync.Once
	cfg.SessionEnded = func() { once.Do(func() { close(r.ended) }) }
	s := platformd.NewStream(cfg)
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	go func() { defer close(r.done); s.Run(runCtx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
}

func TestStreamAppliesChangesAndAnnouncesNewDeviceOnce(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	r := start(t, p.URL(), admin.Token, platformd.StreamConfig{})
	testutil.WaitFor(t, 3*time.Second, "live", func() bool { return r.status.get().Live })

	// A terminate through the platform's API reaches the index at once.
	victim := ""
	for s := range r.sessions.All() {
		if s.Status == domain.StatusActive && !s.Current {
			victim = s.ID
			break
		}
	}
	c, _ := platformd.New(p.URL(), httpx.Options{})
	if _, err := c.WithToken(admin.Token).TerminateSession(context.Background(), victim, "live test"); err != nil {
		t.Fatal(err)
	}
	d := testutil.WaitFor(t, time.Second, "terminated session in the index", func() bool {
		s, ok := r.sessions.Get(victim)
		return ok && s.Status == domain.StatusTerminated
	})
	t.Logf("terminate reached the index after %v", d)

	// A sign-in from a new device: exactly one notification, at once.
	began := time.Now()
	login := p.Login(t, "acme", "auditor@acme.test")
	testutil.WaitFor(t, time.Second, "new-device notification", func() bool { return r.notes.count() > 0 })
	t.Logf("new device announced after %v", time.Since(began))
	time.Sleep(300 * time.Millisecond)
	if n := r.notes.count(); n != 1 || r.notes.calls[0].ID != login.Device.ID {
		t.Fatalf("notifications %d (%+v), want one for %s", n, r.notes.calls, login.Device.ID)
	}
	if st := r.status.get(); !st.Live || st.LastEventAt == nil {
		t.Errorf("status %+v", st)
	}

	// The resume token is kept like the delta marks: a new stream resumes
	// from it and the changes made meanwhile arrive, without a repeat
	// notification.
	r.stop()
	id, _ := r.sync.ResumeToken(context.Background())
	if id == "" {
		t.Fatal("no event id stored")
	}
	p.Login(t, "acme", "member@acme.test")
	r2ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		platformd.NewStream(platformd.StreamConfig{Client: mustClient(t, p.URL(), admin.Token), Target: r.sync}).Run(r2ctx)
	}()
	testutil.WaitFor(t, 2*time.Second, "second new device", func() bool { return r.notes.count() == 2 })
	cancel()
	<-done
}

func mustClient(t *testing.T, base, token string) *platformd.Client {
	c, err := platformd.New(base, httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c.WithToken(token)
}

func TestSessionEndedSignsOut(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	me := p.Login(t, "acme", "auditor@acme.test")
	r := start(t, p.URL(), me.Token, platformd.StreamConfig{})
	testutil.WaitFor(t, 3*time.Second, "live", func() bool { return r.status.get().Live })
	if _, err := mustClient(t, p.URL(), admin.Token).TerminateSession(context.Background(), me.Session.ID, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.ended:
	case <-time.After(time.Second):
		t.Fatal("no SessionEnded within 1 s")
	}
}

func TestFallsBackToPollingWithoutTheRoute(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	// An older platform: every route but /events.
	target, _ := http.NewRequest("GET", p.URL(), nil)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.BasePath+"/events" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"code":"not_found","message":"no such endpoint"}}`))
			return
		}
		proxy(w, r, target.URL.Host)
	}))
	defer old.Close()
	r := start(t, old.URL, admin.Token, platformd.StreamConfig{})
	testutil.WaitFor(t, 2*time.Second, "polling note", func() bool { return r.status.get().LiveNote != "" })
	if st := r.status.get(); st.Live {
		t.Errorf("status %+v", st)
	}
}

func TestFallsBackWhenAProxyBuffers(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	// A proxy that answers the stream's headers and then holds every byte.
	buffering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.BasePath+"/events" {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		u, _ := http.NewRequest("GET", p.URL(), nil)
		proxy(w, r, u.URL.Host)
	}))
	defer buffering.Close()
	r := start(t, buffering.URL, admin.Token, platformd.StreamConfig{SilenceTimeout: 300 * time.Millisecond})
	testutil.WaitFor(t, 3*time.Second, "polling note", func() bool { return r.status.get().LiveNote != "" })
}

// proxy forwards one request to host.
func proxy(w http.ResponseWriter, r *http.Request, host string) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", host
	res, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		w.WriteHeader(502)
		return
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		w.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// fullCounter counts the full syncs the stream asks for.
type fullCounter struct {
	*syncer.Syncer
	mu    sync.Mutex
	fulls int
}

func (f *fullCounter) CatchUp(ctx context.Context, full bool) error {
	if full {
		f.mu.Lock()
		f.fulls++
		f.mu.Unlock()
	}
	return f.Syncer.CatchUp(ctx, full)
}

func (f *fullCounter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fulls
}

func TestResetRunsAFullSync(t *testing.T) {
	clock := &testutil.Clock{}
	clock.Set(time.Now().UTC())
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: 48 * time.Hour,
		Events: platformtest.EventsConfig{MaxResumeAge: time.Hour}})
	admin := p.Login(t, "acme", "admin@acme.test")
	r := start(t, p.URL(), admin.Token, platformd.StreamConfig{})
	testutil.WaitFor(t, 3*time.Second, "live", func() bool { return r.status.get().Live })
	testutil.WaitFor(t, 3*time.Second, "a stored event id", func() bool { id, _ := r.sync.ResumeToken(context.Background()); return id != "" })
	r.stop()
	old, _ := r.sync.ResumeToken(context.Background())

	// Offline for longer than the platform replays: the token is too old.
	clock.Advance(2 * time.Hour)
	target := &fullCounter{Syncer: r.sync}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		platformd.NewStream(platformd.StreamConfig{Client: mustClient(t, p.URL(), admin.Token), Target: target}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, 3*time.Second, "full sync after reset", func() bool { return target.count() == 1 })
	testutil.WaitFor(t, 3*time.Second, "a new event id", func() bool { id, _ := r.sync.ResumeToken(context.Background()); return id != "" && id != old })
}

// slowApply is the syncer with every apply of changes held back first: a
// first full sync at a million sessions holds the sync lock for most of a
// minute, and the stream's next event waits for it.
type slowApply struct {
	*syncer.Syncer
	hold    time.Duration
	mu      sync.Mutex
	applied int
}

func (s *slowApply) ApplyChanges(ctx context.Context, ch domain.Changes, id string) error {
	time.Sleep(s.hold)
	err := s.Syncer.ApplyChanges(ctx, ch, id)
	s.mu.Lock()
	s.applied++
	s.mu.Unlock()
	return err
}

func (s *slowApply) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

func TestApplyingSlowlyIsNotSilence(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{PingInterval: 20 * time.Millisecond}})
	admin := p.Login(t, "acme", "admin@acme.test")
	r := start(t, p.URL(), admin.Token, platformd.StreamConfig{})
	testutil.WaitFor(t, 3*time.Second, "live", func() bool { return r.status.get().Live })
	r.stop()

	// Each apply takes over three times the silence timeout, while the
	// platform pings every 20 ms. After an apply the watchdog's timer and
	// the pings that came meanwhile are both ready, and the loop picks one
	// at random: several rounds, so that a watchdog that counts the apply
	// is caught nearly always.
	target := &slowApply{Syncer: r.sync, hold: 500 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		platformd.NewStream(platformd.StreamConfig{Client: mustClient(t, p.URL(), admin.Token), Target: target,
			SilenceTimeout: 150 * time.Millisecond, RetryFallback: time.Hour}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, 3*time.Second, "live", func() bool { return r.status.get().Live })
	for round := range 8 {
		applied := target.count()
		p.Login(t, "acme", "member@acme.test") // an event: a new session
		testutil.WaitFor(t, 5*time.Second, "the slow apply", func() bool { return target.count() > applied })
		time.Sleep(50 * time.Millisecond)
		if st := r.status.get(); !st.Live || st.LiveNote != "" {
			t.Fatalf("round %d: after an apply of %v the stream is not live: %+v", round, target.hold, st)
		}
	}
}
