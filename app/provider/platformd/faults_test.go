package platformd_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/internal/faultproxy/faultproxytest"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// startProxy puts a real fault-injecting TCP proxy between the client and
// the real platform.
func startProxy(t *testing.T, p *platformtest.Platform, f faultproxy.Faults) *faultproxy.Proxy {
	t.Helper()
	return faultproxytest.Start(t, p.URL(), f)
}

func onSessions(path string) bool { return strings.HasSuffix(path, "/sessions") }

// A connection reset in the middle of the body is retried like a failed
// connection: every call completes.
func TestBodyResetMidwayIsRetried(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	fp := startProxy(t, p, faultproxy.Faults{Match: onSessions, ResetRate: 0.4})
	fp.Seed(7)
	c, _ := platformd.New(fp.URL(), fastOptions(nil))
	c = c.WithToken(token)
	for i := range 20 {
		page, err := c.ListSessions(context.Background(), platformd.ListParams{Status: "all", Limit: 100})
		if err != nil {
			t.Fatalf("call %d: %v (resets so far %d)", i, err, fp.Resets.Load())
		}
		if len(page.Items) == 0 {
			t.Fatalf("call %d: empty page", i)
		}
	}
	if fp.Resets.Load() == 0 {
		t.Fatal("the proxy reset no answer: the test proves nothing")
	}
}

// A body that keeps arriving, however slowly, is not cut: a 64 KB/s link
// takes longer for one page than the whole call budget, the idle limit and
// the first-byte limit together.
func TestSlowLinkIsNotCut(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	fp := startProxy(t, p, faultproxy.Faults{BytesPerSec: 64 << 10})
	opts := fastOptions(nil)
	opts.CallTimeout, opts.FirstByteTimeout, opts.IdleTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	c, _ := platformd.New(fp.URL(), opts)
	start := time.Now()
	page, err := c.WithToken(token).ListSessions(context.Background(), platformd.ListParams{Status: "all", Limit: api.MaxLimit})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("slow page failed after %v: %v", took, err)
	}
	if took < 1500*time.Millisecond {
		t.Fatalf("the page of %d sessions took only %v: the link is not slow enough to prove anything", len(page.Items), took)
	}
	// Sign-in goes through the same link.
	if _, err := c.Login(context.Background(), api.LoginRequest{Org: "acme", Email: "auditor@acme.test", Password: platformtest.Password,
		Device: api.LoginDevice{Name: "t", Platform: "Linux"}}); err != nil {
		t.Fatalf("sign-in over the slow link: %v", err)
	}
}

// A black hole (accepts, never answers) is told apart quickly by the
// first-byte limit and is "unreachable", not "answered".
func TestBlackHoleIsUnreachable(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	fp := startProxy(t, p, faultproxy.Faults{BlackHole: true})
	opts := fastOptions(nil)
	opts.CallTimeout, opts.FirstByteTimeout = time.Second, 300*time.Millisecond
	c, _ := platformd.New(fp.URL(), opts)
	start := time.Now()
	err := c.Healthz(context.Background())
	took := time.Since(start)
	if !domain.IsUnreachable(err) || domain.Answered(err) {
		t.Fatalf("err = %v, want unreachable and not answered", err)
	}
	if took > 2500*time.Millisecond {
		t.Fatalf("took %v, want about the 1s budget plus one 300ms attempt", took)
	}
	if !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("err = %v, want it to name the first-byte limit", err)
	}
}

// 429 and 503 with a Retry-After past the call budget end the call at once
// and carry the wait.
func TestRetryAfterIsCarried(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	for _, status := range []int{429, 503} {
		fp := startProxy(t, p, faultproxy.Faults{Status: status, StatusCount: 1, RetryAfter: 120 * time.Second})
		c, _ := platformd.New(fp.URL(), fastOptions(nil))
		start := time.Now()
		_, err := c.WithToken(token).ListDevices(context.Background(), platformd.ListParams{})
		if err == nil {
			t.Fatalf("%d: no error", status)
		}
		if d, ok := domain.RetryAfterOf(err); !ok || d != 120*time.Second {
			t.Fatalf("%d: RetryAfterOf(%v) = %v, %v; want 2m", status, err, d, ok)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("%d: waited %v for an answer it cannot use", status, time.Since(start))
		}
		if status == 503 && !domain.Answered(err) {
			t.Fatalf("503: %v should count as answered", err)
		}
	}
}

// The platform's clock is learned from the Date header: a workstation 13
// hours ahead still computes on the platform's time.
func TestServerClockFromDateHeader(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	skew := 13 * time.Hour
	opts := fastOptions(nil)
	opts.Clock = func() time.Time { return time.Now().Add(skew) }
	c, _ := platformd.New(p.URL(), opts)
	if _, known := c.ClockOffset(); known {
		t.Fatal("offset known before any answer")
	}
	if err := c.Healthz(context.Background()); err != nil {
		t.Fatal(err)
	}
	off, known := c.ClockOffset()
	if !known || (off+skew).Abs() > 2*time.Second {
		t.Fatalf("offset = %v (known %v), want about %v", off, known, -skew)
	}
	if d := c.WithToken("x").Now().Sub(time.Now()).Abs(); d > 2*time.Second {
		t.Fatalf("Now is %v off the platform's clock", d)
	}
}

// A body that stops arriving is cut by the idle limit (and the call reports
// that the platform answered), not left hanging.
func TestStalledBodyIsCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the link goes silent
	}))
	defer srv.Close()
	opts := fastOptions(nil)
	opts.CallTimeout, opts.FirstByteTimeout, opts.IdleTimeout, opts.RetryMax = 500*time.Millisecond, time.Second, 300*time.Millisecond, 1
	c, _ := platformd.New(srv.URL, opts)
	start := time.Now()
	_, err := c.ListDevices(context.Background(), platformd.ListParams{})
	if !domain.Answered(err) || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("err = %v, want a stalled answer", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %v", took)
	}
}
