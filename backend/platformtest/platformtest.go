// Package platformtest runs a real platformd (the real handler, a real SQLite
// file, a real loopback listener) inside a test, for this module's tests and
// for other teams' tests of their platform clients.
//
//	p := platformtest.Start(t, platformtest.Options{})
//	resp := p.Login(t, "acme", "admin@acme.test")
//	// call p.URL()+"/api/v1/..." with "Authorization: Bearer "+resp.Token
//
// The database lives in t.TempDir() and everything is stopped by t.Cleanup.
// To keep tests fast (bcrypt under -race is slow), the demo password is
// hashed at bcrypt's minimum cost here; production uses the default cost.
// The login path itself is the real one.
// Stop and Restart simulate an outage: the listener and every open
// connection close, the database stays, and Restart serves again on the same
// port.
package platformtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/sqlite"
	"sessiondesk/backend/totp"
)

// Password is the password of every demo user.
const Password = seed.DemoPassword

// MFASecret is the TOTP secret of mfa@acme.test.
const MFASecret = seed.MFASecret

// Options configures Start. The zero value is a demo-seeded platform on the
// real clock with default timeouts and throttling.
type Options struct {
	// Seed is "demo" or "" (both: the demo seed, the default) or "none" (an
	// empty database; arrange data through Store).
	Seed string
	// Clock is the platform's clock (server and store); nil means time.Now.
	Clock func() time.Time
	// Session lifetimes; zero means the server defaults (12h, 7 days).
	IdleTimeout, AbsoluteTimeout time.Duration
	// LoginThrottle overrides the sign-in throttling; nil means defaults.
	LoginThrottle *server.ThrottleConfig
	// Logger receives the platform's logs; nil discards them.
	Logger *slog.Logger
	// Events configures the live event streams; zero fields take defaults.
	Events EventsConfig
	// ReadTimeout and WriteTimeout of the http.Server (zero: none), as
	// platformd sets them, for tests of long-lived answers.
	ReadTimeout, WriteTimeout time.Duration
	// TLS, when set, serves HTTPS with it (see NewCA for a test CA and
	// certificate); URL then starts with https://.
	TLS *tls.Config
}

// EventsConfig tunes GET /api/v1/events (server.EventsConfig), so that
// clients' tests need not import the server.
type EventsConfig = server.EventsConfig

// Platform is a running platform.
type Platform struct {
	store   *sqlite.DB
	handler *server.Server
	opts    Options
	addr    string
	clock   func() time.Time
	tls     *tls.Config

	mu  sync.Mutex
	srv *http.Server
}

// Start opens a fresh SQLite file in t.TempDir(), seeds it, and serves the
// API on 127.0.0.1 on a free port until the test ends.
func Start(t testing.TB, opts Options) *Platform {
	t.Helper()
	ctx := context.Background()
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "platform.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	switch opts.Seed {
	case "", "demo":
		hash, err := store.HashPassword(seed.DemoPassword, store.MinPasswordCost)
		if err != nil {
			db.Close()
			t.Fatalf("platformtest: %v", err)
		}
		if _, err := seed.DemoWithHash(ctx, db, clock(), hash); err != nil {
			db.Close()
			t.Fatalf("platformtest: %v", err)
		}
	case "none":
	default:
		db.Close()
		t.Fatalf("platformtest: unknown seed %q (want demo or none)", opts.Seed)
	}
	cfg := server.Config{Store: db, Logger: opts.Logger, Clock: clock,
		IdleTimeout: opts.IdleTimeout, AbsoluteTimeout: opts.AbsoluteTimeout, PasswordCost: store.MinPasswordCost,
		Events: opts.Events}
	if opts.LoginThrottle != nil {
		cfg.Throttle = *opts.LoginThrottle
	}
	h, err := server.New(cfg)
	if err != nil {
		db.Close()
		t.Fatalf("platformtest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		t.Fatalf("platformtest: listen: %v", err)
	}
	p := &Platform{store: db, handler: h, opts: opts, addr: ln.Addr().String(), clock: clock, tls: opts.TLS}
	p.serve(ln)
	t.Cleanup(func() {
		p.Stop()
		db.Close()
	})
	return p
}

func (p *Platform) serve(ln net.Listener) {
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: p.opts.ReadTimeout, WriteTimeout: p.opts.WriteTimeout}
	if p.tls != nil {
		ln = tls.NewListener(ln, p.tls)
	}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() {
		// ErrServerClosed is the normal end; anything else ends the serving
		// just the same, and the test sees connection errors.
		_ = srv.Serve(ln)
	}()
}

// URL is the base URL, "http://127.0.0.1:PORT" (https:// with Options.TLS),
// without a trailing slash and without /api/v1.
func (p *Platform) URL() string {
	if p.tls != nil {
		return "https://" + p.addr
	}
	return "http://" + p.addr
}

// Stop closes the listener and every connection, in flight or idle. The
// database stays; Restart serves it again.
func (p *Platform) Stop() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart serves again on the same port with the same database. It retries
// for a few seconds while the port is still being released.
func (p *Platform) Restart() {
	p.Stop()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		panic("platformtest: restart on " + p.addr + ": " + err.Error())
	}
	p.serve(ln)
}

// Server is the platform's handler, for its counters (OpenStreams).
func (p *Platform) Server() *server.Server { return p.handler }

// httpClient is the client of Login: with TLS it trusts the platform's own
// certificate (as an anchor), so that Login needs no CA.
func (p *Platform) httpClient() *http.Client {
	if p.tls == nil || len(p.tls.Certificates) == 0 || p.tls.Certificates[0].Leaf == nil {
		return http.DefaultClient
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.tls.Certificates[0].Leaf)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

// Store is the platform's store, to arrange data directly.
func (p *Platform) Store() store.Store { return p.store }

// Login signs in through the real POST /api/v1/auth/login with the demo
// password and no device ID (so a new device record is created). For a
// TOTP-enrolled user it answers the MFA challenge with the seed's secret
// (MFASecret) at the platform's clock; because a code is accepted once,
// repeated logins of such a user need the clock to move on. It fails the
// test on any error.
func (p *Platform) Login(t testing.TB, org, email string) api.LoginResponse {
	t.Helper()
	req := api.LoginRequest{Org: org, Email: email, Password: Password,
		Device: api.LoginDevice{Name: "platformtest", Platform: "Linux"}}
	resp, code, err := p.login(req)
	if err != nil {
		t.Fatalf("platformtest: login %s/%s: %v", org, email, err)
	}
	if code == api.CodeMFARequired {
		// Try the current step, then the next (accepted with skew), in case
		// the current one was used already.
		for _, d := range []time.Duration{0, totp.Period} {
			c, err := totp.Code(MFASecret, p.clock().Add(d))
			if err != nil {
				t.Fatalf("platformtest: %v", err)
			}
			req.TOTP = c
			if resp, code, err = p.login(req); err != nil {
				t.Fatalf("platformtest: login %s/%s: %v", org, email, err)
			}
			if code == "" {
				break
			}
		}
	}
	if code != "" {
		t.Fatalf("platformtest: login %s/%s: %s", org, email, code)
	}
	return resp
}

func (p *Platform) login(req api.LoginRequest) (api.LoginResponse, string, error) {
	var out api.LoginResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, "", err
	}
	res, err := p.httpClient().Post(p.URL()+api.BasePath+"/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return out, "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return out, "", err
	}
	if res.StatusCode != http.StatusOK {
		var e api.ErrorBody
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return out, "", errors.New(res.Status)
		}
		return out, e.Error.Code, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, "", err
	}
	return out, "", nil
}
