package desk_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/backend/platformtest"
)

// front is a loopback proxy in front of the platform that counts requests
// and the connections the app holds open to it.
type front struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	open     map[net.Conn]bool
	writes   []string // "POST /api/v1/…" of every request that is not a GET
}

func newFront(t *testing.T, p *platformtest.Platform) *front {
	t.Helper()
	u, _ := url.Parse(p.URL())
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &front{open: map[net.Conn]bool{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if r.Method != http.MethodGet {
			f.mu.Lock()
			f.writes = append(f.writes, r.Method+" "+r.URL.Path)
			f.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	f.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch st {
		case http.StateNew:
			f.open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(f.open, c)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// takeWrites returns the writes seen since the last call.
func (f *front) takeWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.writes
	f.writes = nil
	return out
}

func (f *front) openConns() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.open)
}

// Closing a workspace closes its client's idle connections: every sign-in
// builds a client with its own transport, and its keep-alive connections
// would otherwise stay open for as long as the app runs.
func TestClosedWorkspaceLeavesNoConnections(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	f := newFront(t, p)
	e := newEnv(t)
	d := e.Open(t)
	st, err := d.SignIn(context.Background(), desk.SignInRequest{ServerURL: f.srv.URL, Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil || !st.SignedIn {
		t.Fatalf("SignIn: %v", err)
	}
	syncNow(t, d)
	if f.openConns() == 0 {
		t.Fatal("expected a kept-alive connection while signed in")
	}
	d.Close()
	eventually(t, 3*time.Second, "connections closed after the workspace closed", func() bool { return f.openConns() == 0 })

	// A failed sign-in leaves none either.
	if _, err := d.SignIn(context.Background(), desk.SignInRequest{ServerURL: f.srv.URL, Org: "acme", Email: "admin@acme.test", Password: "wrong"}); err == nil {
		t.Fatal("wrong password accepted")
	}
	eventually(t, 3*time.Second, "connections closed after a failed sign-in", func() bool { return f.openConns() == 0 })
}

// Two workspaces opening at once (a resume at start and a sign-in) must
// leave exactly one open: the other is closed, not leaked with its sync
// still running against the platform.
func TestConcurrentSignInAndResumeLeakNoWorkspace(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	f := newFront(t, p)
	e := newEnv(t)
	e.Config.SyncInterval = 20 * time.Millisecond
	d := e.Open(t)
	ctx := context.Background()
	admin := desk.SignInRequest{ServerURL: f.srv.URL, Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}
	auditor := admin
	auditor.Email = "auditor@acme.test"
	member := admin
	member.Email = "member@acme.test"
	// The admin's token is stored: Resume signs the admin back in.
	if _, err := d.SignIn(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		d.Close()
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			if err := d.Resume(ctx); err != nil {
				t.Errorf("Resume: %v", err)
			}
		}()
		for _, req := range []desk.SignInRequest{auditor, member} {
			go func() {
				defer wg.Done()
				if _, err := d.SignIn(ctx, req); err != nil {
					t.Errorf("SignIn: %v", err)
				}
			}()
		}
		wg.Wait()
		if !d.State().SignedIn {
			t.Fatal("not signed in after both")
		}
		// Back to the admin as the last profile, for the next Resume.
		if _, err := d.SignIn(ctx, admin); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	// With nothing open, nothing may keep syncing.
	time.Sleep(200 * time.Millisecond)
	before := f.requests.Load()
	time.Sleep(400 * time.Millisecond)
	if after := f.requests.Load(); after != before {
		t.Fatalf("%d requests reached the platform after the last workspace closed: a workspace leaked", after-before)
	}
	eventually(t, 3*time.Second, "no connections left", func() bool { return f.openConns() == 0 })
}
