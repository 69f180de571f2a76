package platformd_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// faulty proxies to the real platform and injects faults in front of it.
type faulty struct {
	target *url.URL
	proxy  *httputil.ReverseProxy
	calls  atomic.Int32
	// fault returns true when it answered the request itself.
	fault func(n int32, w http.ResponseWriter, r *http.Request) bool
}

func newFaulty(t *testing.T, p *platformtest.Platform, fault func(n int32, w http.ResponseWriter, r *http.Request) bool) (*faulty, *httptest.Server) {
	t.Helper()
	u, _ := url.Parse(p.URL())
	f := &faulty{target: u, proxy: httputil.NewSingleHostReverseProxy(u), fault: fault}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		if f.fault != nil && f.fault(n, w, r) {
			return
		}
		f.proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func fastOptions(log *slog.Logger) httpx.Options {
	return httpx.Options{
		CallTimeout:      3 * time.Second,
		FirstByteTimeout: 500 * time.Millisecond,
		RetryMax:         4,
		RetryWaitMin:     10 * time.Millisecond,
		RetryWaitMax:     50 * time.Millisecond,
		Log:              log,
	}
}

func writeErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(`{"error":{"code":"` + code + `","message":"injected"}}`))
}

func TestRetriesTransientFailures(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token

	cases := []struct {
		name      string
		failFirst int32
		status    int
		code      string
	}{
		{"500 twice", 2, 500, api.CodeInternal},
		{"503 three times", 3, 503, api.CodeUnavailable},
		{"502 once", 1, 502, api.CodeUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
				if n <= tc.failFirst {
					writeErr(w, tc.status, tc.code)
					return true
				}
				return false
			})
			c, err := platformd.New(srv.URL, fastOptions(nil))
			if err != nil {
				t.Fatal(err)
			}
			c = c.WithToken(token)
			list, err := c.ListSessions(context.Background(), platformd.ListParams{Limit: 5})
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			if len(list.Items) == 0 {
				t.Fatal("no sessions from the real platform")
			}
			if got := f.calls.Load(); got != tc.failFirst+1 {
				t.Fatalf("calls = %d, want %d", got, tc.failFirst+1)
			}
		})
	}

	t.Run("terminate is retried (idempotent)", func(t *testing.T) {
		victim := p.Login(t, "acme", "member@acme.test")
		f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				// The request reached the platform, but the answer is lost.
				p2 := httputil.NewSingleHostReverseProxy(mustURL(p.URL()))
				rec := httptest.NewRecorder()
				p2.ServeHTTP(rec, r)
				writeErr(w, 502, api.CodeUnavailable)
				return true
			}
			return false
		})
		c, _ := platformd.New(srv.URL, fastOptions(nil))
		if victim.Session.ID == "" {
			t.Fatalf("login response without session id: %+v", victim)
		}
		s, err := c.WithToken(token).TerminateSession(context.Background(), victim.Session.ID, "test")
		if err != nil {
			t.Fatalf("TerminateSession: %v", err)
		}
		if s.Status != api.StatusTerminated || f.calls.Load() != 2 {
			t.Fatalf("status %q after %d calls", s.Status, f.calls.Load())
		}
	})

	t.Run("gives up after RetryMax and reports unreachable", func(t *testing.T) {
		f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
			writeErr(w, 503, api.CodeUnavailable)
			return true
		})
		c, _ := platformd.New(srv.URL, fastOptions(nil))
		_, err := c.WithToken(token).Me(context.Background())
		if !domain.IsUnreachable(err) || domain.KindOf(err) != api.CodeUnavailable {
			t.Fatalf("err = %v, want unreachable/unavailable", err)
		}
		if got := f.calls.Load(); got != 5 {
			t.Fatalf("calls = %d, want 1 + RetryMax(4)", got)
		}
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestHonoursRetryAfter(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	var first time.Time
	var gap time.Duration
	f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			writeErr(w, 429, api.CodeRateLimited)
			return true
		}
		if n == 2 {
			gap = time.Since(first)
		}
		return false
	})
	c, _ := platformd.New(srv.URL, fastOptions(nil))
	if _, err := c.WithToken(token).Me(context.Background()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	if f.calls.Load() != 2 {
		t.Fatalf("calls = %d, want 2", f.calls.Load())
	}
	// RetryWaitMax is 50ms: only Retry-After explains a wait of ~1s.
	if gap < 900*time.Millisecond || gap > 2500*time.Millisecond {
		t.Fatalf("retried after %v, want about 1s (Retry-After)", gap)
	}

	t.Run("Retry-After beyond the call budget gives up at once", func(t *testing.T) {
		f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "60")
			writeErr(w, 429, api.CodeRateLimited)
			return true
		})
		c, _ := platformd.New(srv.URL, fastOptions(nil))
		start := time.Now()
		_, err := c.WithToken(token).Me(context.Background())
		if domain.KindOf(err) != api.CodeRateLimited {
			t.Fatalf("err = %v, want rate_limited", err)
		}
		if time.Since(start) > time.Second || f.calls.Load() != 1 {
			t.Fatalf("took %v over %d calls", time.Since(start), f.calls.Load())
		}
	})
}

func TestHangIsBounded(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	release := make(chan struct{})
	defer close(release)
	f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	opts := fastOptions(nil)
	opts.CallTimeout = 1500 * time.Millisecond
	opts.FirstByteTimeout = 400 * time.Millisecond
	c, _ := platformd.New(srv.URL, opts)
	start := time.Now()
	_, err := c.WithToken(token).ListDevices(context.Background(), platformd.ListParams{})
	took := time.Since(start)
	if !domain.IsUnreachable(err) {
		t.Fatalf("err = %v, want unreachable", err)
	}
	if took < 1200*time.Millisecond || took > 2500*time.Millisecond {
		t.Fatalf("took %v, want about the 1.5s call budget", took)
	}
	if f.calls.Load() < 2 {
		t.Fatalf("calls = %d: attempts should time out and retry within the budget", f.calls.Load())
	}

	t.Run("caller cancellation stops at once and is not 'unreachable'", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		opts := fastOptions(nil)
		opts.FirstByteTimeout = 5 * time.Second
		c, _ := platformd.New(srv.URL, opts)
		start := time.Now()
		_, err := c.WithToken(token).Me(ctx)
		if err == nil || domain.IsUnreachable(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("took %v after cancel", time.Since(start))
		}
	})
}

func TestNoRetryOnClientErrors(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	auditor := p.Login(t, "acme", "auditor@acme.test").Token
	f, srv := newFaulty(t, p, nil)
	c, _ := platformd.New(srv.URL, fastOptions(nil))

	// The real platform answers 403: the auditor may not terminate all.
	_, err := c.WithToken(auditor).TerminateAll(context.Background(), true, "")
	if domain.KindOf(err) != api.CodePermissionDenied {
		t.Fatalf("err = %v, want permission_denied", err)
	}
	var pe *platformd.Error
	if !errors.As(err, &pe) || pe.Status != 403 {
		t.Fatalf("err = %#v", err)
	}
	if f.calls.Load() != 1 {
		t.Fatalf("403 was sent %d times", f.calls.Load())
	}

	f.calls.Store(0)
	_, err = c.WithToken(auditor).TerminateSession(context.Background(), "no-such-session", "")
	if code := domain.KindOf(err); code != api.CodeNotFound && code != api.CodeInvalidArgument {
		t.Fatalf("err = %v, want not_found", err)
	}
	if f.calls.Load() != 1 {
		t.Fatalf("4xx was sent %d times", f.calls.Load())
	}

	f.calls.Store(0)
	_, err = c.WithToken("not-a-token").Me(context.Background())
	if !domain.IsUnauthenticated(err) || f.calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, f.calls.Load())
	}
}

func TestLoginIsNotRetriedExceptRefused(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			writeErr(w, 500, api.CodeInternal)
			return true
		}
		return false
	})
	c, _ := platformd.New(srv.URL, fastOptions(nil))
	req := api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}
	_, err := c.Login(context.Background(), req)
	if domain.KindOf(err) != api.CodeInternal || f.calls.Load() != 1 {
		t.Fatalf("login after 500: err=%v calls=%d (must not retry)", err, f.calls.Load())
	}

	// Connection refused: a port nobody listens on, that starts listening
	// (serving the real platform) a moment later.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go func() {
		time.Sleep(60 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(mustURL(p.URL()))}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(ln)
	}()
	opts := fastOptions(nil)
	opts.RetryWaitMin, opts.RetryWaitMax = 50*time.Millisecond, 200*time.Millisecond
	c2, _ := platformd.New("http://"+addr, opts)
	resp, err := c2.Login(context.Background(), req)
	if err != nil || resp.Token == "" {
		t.Fatalf("login across a refused connection: %v", err)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		if n == 2 { // fail the first Me so a retry is logged too
			writeErr(w, 500, api.CodeInternal)
			return true
		}
		return false
	})
	c, _ := platformd.New(srv.URL, fastOptions(log))
	resp, err := c.Login(context.Background(), api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithToken(resp.Token).Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithToken(resp.Token).ListSessions(context.Background(), platformd.ListParams{Q: "admin@acme.test"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "retry") {
		t.Fatalf("expected a logged retry, got:\n%s", out)
	}
	for _, secret := range []string{resp.Token, platformtest.Password, "admin@acme.test", "Bearer"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds %q:\n%s", secret, out)
		}
	}
}

// Terminate-all answers once every session has ended (15-30 s at a million
// sessions): its attempt waits past FirstByteTimeout, where any other call
// is cut. Before, every attempt was cut at 10 s and retried, and the
// platform rolled each back.
func TestTerminateAllWaitsLongerForItsAnswer(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	slow := 3 * fastOptions(nil).FirstByteTimeout
	f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		time.Sleep(slow)
		return false
	})
	c, _ := platformd.New(srv.URL, fastOptions(nil))
	if _, err := c.WithToken(token).Me(context.Background()); !domain.IsUnreachable(err) {
		t.Fatalf("a slow answer to Me: %v, want unreachable (cut at FirstByteTimeout)", err)
	}
	f.calls.Store(0)
	out, err := c.WithToken(token).TerminateAll(context.Background(), true, "")
	if err != nil || out.Terminated == 0 {
		t.Fatalf("TerminateAll: %+v %v", out, err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("TerminateAll took %d attempts, want the first to be waited for", n)
	}
}

// httpx.Once makes a call one attempt, whatever its policy: an answer that
// would be retried is final, and a refused port is told at once instead of
// after the backoff (resuming offline asks /me this way).
func TestOnceSendsOneAttempt(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	f, srv := newFaulty(t, p, func(n int32, w http.ResponseWriter, r *http.Request) bool {
		writeErr(w, 503, api.CodeUnavailable)
		return true
	})
	c, _ := platformd.New(srv.URL, fastOptions(nil))
	_, err := c.WithToken(token).Me(httpx.Once(context.Background()))
	if !domain.IsUnreachable(err) || domain.KindOf(err) != api.CodeUnavailable {
		t.Fatalf("err = %v, want unreachable/unavailable", err)
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("calls = %d, want 1", got)
	}

	// A port nobody listens on: refused, which every policy retries.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	opts := fastOptions(nil)
	opts.RetryWaitMin, opts.RetryWaitMax = 200*time.Millisecond, 200*time.Millisecond
	c, _ = platformd.New(refused, opts)
	start := time.Now()
	if _, err := c.WithToken(token).Me(httpx.Once(context.Background())); !domain.IsUnreachable(err) {
		t.Fatalf("err = %v, want unreachable", err)
	}
	once := time.Since(start)
	start = time.Now()
	if _, err := c.WithToken(token).Me(context.Background()); !domain.IsUnreachable(err) {
		t.Fatalf("err = %v, want unreachable", err)
	}
	retried := time.Since(start)
	// Four retries wait 4 × 100-200 ms (equal jitter); one attempt none.
	if once >= 100*time.Millisecond || retried < 400*time.Millisecond {
		t.Fatalf("refused port: once took %v, with retries %v", once, retried)
	}
	t.Logf("refused port: once %v, with retries %v", once, retried)
}
