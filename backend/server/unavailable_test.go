package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
)

// cutProxy is a TCP proxy on loopback in front of the PostgreSQL cluster.
// Cut closes its listener and every connection through it (the database is
// unreachable: connections refused); Restore listens on the same port again.
// The cluster itself, shared with other tests, keeps running.
type cutProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *cutProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *cutProxy) Restore() {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// While PostgreSQL is unreachable /healthz and every API request answer 503
// unavailable (never 500, never internals); when it is back the same
// process answers 200 again by itself. A backend killed under a live
// connection (pg_terminate_backend) is a 503 or a transparent reconnect,
// never a 500.
func TestDatabaseLossIs503AndRecovers(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	db, err := postgres.Open(ctx, u.String()+"&connect_timeout=2", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := platformtest.Start(t, platformtest.Options{Store: db})
	anon := newClient(t, p, "")
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	requests := []func() response{
		func() response { return anon.do("GET", "/healthz", nil) },
		func() response { return admin.do("GET", api.BasePath+"/sessions?limit=10", nil) },
		func() response { return admin.do("GET", api.BasePath+"/devices?limit=10", nil) },
		func() response {
			return login(anon, api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password})
		},
	}
	// check accepts 200 (or 503 when allow503) and nothing else; a 503 must
	// be the bare unavailable error.
	check := func(res response, allow503 bool) {
		t.Helper()
		switch {
		case res.status == 200:
		case res.status == 503 && allow503:
			var e api.ErrorBody
			if json.Unmarshal(res.body, &e) != nil || e.Error.Code != api.CodeUnavailable {
				t.Errorf("503 body %s", res.body)
			}
			for _, leak := range []string{"dial", "127.0.0.1", "pgx", "postgres", "connect", "EOF"} {
				if strings.Contains(string(res.body), leak) {
					t.Errorf("503 body leaks %q: %s", leak, res.body)
				}
			}
		default:
			t.Errorf("status %d: %s", res.status, res.body)
		}
	}
	for _, r := range requests {
		check(r(), false)
	}

	// Requests in flight while the database goes away: 200 or 503 only.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				check(requests[i%len(requests)](), true)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	proxy.Cut()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, r := range requests {
		if res := r(); res.status != 503 {
			t.Errorf("with the database unreachable: %d %s, want 503", res.status, res.body)
		} else {
			check(res, true)
		}
	}

	proxy.Restore()
	waitHealthy(t, anon)
	for _, r := range requests {
		check(r(), false)
	}

	// Kill every backend of this database under the pool's connections.
	admin0, err := pgx.Connect(ctx, pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin0.Close(ctx)
	if _, err := admin0.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`,
		strings.TrimPrefix(u.Path, "/")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, r := range requests {
			check(r(), true)
		}
	}
	waitHealthy(t, anon)
	for _, r := range requests {
		check(r(), false)
	}
}

func waitHealthy(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := c.do("GET", "/healthz", nil)
		if res.status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy 20 s after the database came back: %d %s", res.status, res.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
