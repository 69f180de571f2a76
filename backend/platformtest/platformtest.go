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
//
// With SESSIONDESK_PLATFORMTEST=postgres-replicas in the environment (the
// test command sets it for a second run of the platform's HTTP tests) every
// Start serves two replicas instead: two handlers, each with its own
// connection pool, on one fresh PostgreSQL database (see pgtest), behind one
// listener that alternates requests between them. So every HTTP test also
// proves that replicas on one database behave as one.
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
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
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
	// Replicas, when 2 or more, serves that many replicas on one fresh
	// PostgreSQL database whatever the environment says (tests of replica
	// behaviour); 0 follows the environment (see the package comment).
	Replicas int
	// Events configures the live event streams; zero fields take defaults.
	Events EventsConfig
	// ReadTimeout and WriteTimeout of the http.Server (zero: none), as
	// platformd sets them, for tests of long-lived answers.
	ReadTimeout, WriteTimeout time.Duration
	// TLS, when set, serves HTTPS with it (see NewCA for a test CA and
	// certificate); URL then starts with https://.
	TLS *tls.Config
	// Shed, BodyReadTimeout and TrustProxy are the server's (server.Config);
	// zero values mean its defaults.
	Shed            server.ShedConfig
	BodyReadTimeout time.Duration
	TrustProxy      bool
	// WrapStore, when set, wraps each replica's store before its server
	// gets it (a slow disk, a failing one); the seed and Store() use the
	// store itself.
	WrapStore func(store.Store) store.Store
	// Store, when set, is the one store served (a single replica, whatever
	// the environment says) in place of a fresh database: one the test
	// opened where it needs it (a tiny file system, behind a proxy it cuts,
	// a fixture file), or another platform's store wrapped to slow, count or
	// fail calls, so that a test never builds a server by hand. Seed applies
	// to it as to a fresh one (Seed "none" for a store already seeded); the
	// test opened it and closes it.
	Store store.Store
	// WrapHandler, when set, wraps what the listener serves (to hold or
	// watch requests on their way); Replica and Server stay the servers
	// themselves.
	WrapHandler func(http.Handler) http.Handler
	// MaxSessionsPerUser caps each user's active sessions
	// (server.Config.MaxSessionsPerUser; 0: the default, below 0: none).
	MaxSessionsPerUser int
}

// EventsConfig tunes GET /api/v1/events (server.EventsConfig), so that
// clients' tests need not import the server.
type EventsConfig = server.EventsConfig

// Platform is a running platform.
type Platform struct {
	store    store.Store
	handler  http.Handler     // what the listener serves: the one server, or alternate(servers)
	servers  []*server.Server // one per replica
	replicas []http.Handler
	opts     Options
	addr     string
	clock    func() time.Time
	tls      *tls.Config

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
	dbs := []store.Store{opts.Store}
	if opts.Store == nil {
		dbs = openStores(t, clock, opts.Replicas)
	}
	db := dbs[0]
	switch opts.Seed {
	case "", "demo":
		if _, err := seed.DemoWithHash(ctx, db, clock(), PasswordHash(t)); err != nil {
			t.Fatalf("platformtest: %v", err)
		}
	case "none":
	default:
		t.Fatalf("platformtest: unknown seed %q (want demo or none)", opts.Seed)
	}
	var handlers []http.Handler
	var servers []*server.Server
	for _, st := range dbs {
		cfg := server.Config{Store: st, Logger: opts.Logger, Clock: clock,
			IdleTimeout: opts.IdleTimeout, AbsoluteTimeout: opts.AbsoluteTimeout, PasswordCost: store.MinPasswordCost,
			Events: opts.Events, MaxSessionsPerUser: opts.MaxSessionsPerUser}
		if pg, ok := st.(*postgres.DB); ok && len(dbs) > 1 && cfg.Events.Notifier == nil {
			// Replicas wake each other's event streams through the
			// database, as platformd serve does. (One store of the
			// test's own, Options.Store, is served as it is, alone.)
			cfg.Events.Notifier = pg.Notifier()
		}
		if opts.LoginThrottle != nil {
			cfg.Throttle = *opts.LoginThrottle
		}
		cfg.Shed, cfg.BodyReadTimeout, cfg.TrustProxy = opts.Shed, opts.BodyReadTimeout, opts.TrustProxy
		if opts.WrapStore != nil {
			cfg.Store = opts.WrapStore(st)
		}
		h, err := server.New(cfg)
		if err != nil {
			t.Fatalf("platformtest: %v", err)
		}
		handlers = append(handlers, h)
		servers = append(servers, h)
	}
	var h http.Handler = handlers[0]
	if len(handlers) > 1 {
		h = alternate(handlers)
	}
	if opts.WrapHandler != nil {
		h = opts.WrapHandler(h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("platformtest: listen: %v", err)
	}
	p := &Platform{store: db, handler: h, servers: servers, replicas: handlers, opts: opts, addr: ln.Addr().String(), clock: clock, tls: opts.TLS}
	p.serve(ln)
	t.Cleanup(p.Stop) // runs before the stores' cleanups: LIFO
	return p
}

// passwordHash caches PasswordHash: one bcrypt run per test binary.
var passwordHash = sync.OnceValues(func() ([]byte, error) {
	return store.HashPassword(Password, store.MinPasswordCost)
})

// PasswordHash is the hash of Password at bcrypt's minimum cost, the one
// every test that stores a user itself should give it (a seed, a fixture,
// store.NewUser), so that no test runs bcrypt at the production cost or
// calls bcrypt directly. It is computed once and shared; callers must not
// change it.
func PasswordHash(t testing.TB) []byte {
	t.Helper()
	h, err := passwordHash()
	if err != nil {
		t.Fatalf("platformtest: %v", err)
	}
	return h
}

// MFACode is mfa@acme.test's TOTP code at the given time (the platform's
// clock, moved or not), for tests that sign in through the API themselves.
func MFACode(t testing.TB, at time.Time) string {
	t.Helper()
	c, err := totp.Code(MFASecret, at)
	if err != nil {
		t.Fatalf("platformtest: totp: %v", err)
	}
	return c
}

// EnvBackend names the variable that selects the backend of Start.
const EnvBackend = "SESSIONDESK_PLATFORMTEST"

// Replica is the handler of replica i (0-based), to address one replica
// directly; Start's listener alternates between all of them.
func (p *Platform) Replica(i int) http.Handler { return p.replicas[i] }

// Replicas is the number of replicas Start serves (1 on SQLite).
func (p *Platform) Replicas() int { return len(p.replicas) }

// openStores opens the store(s) Start serves: one SQLite file, or n (by
// default two) handles on one fresh PostgreSQL database. They close at
// cleanup.
func openStores(t testing.TB, clock func() time.Time, n int) []store.Store {
	t.Helper()
	ctx := context.Background()
	v := os.Getenv(EnvBackend)
	if n >= 2 {
		v = "postgres-replicas"
	} else {
		n = 2
	}
	switch v {
	case "", "sqlite":
		db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "platform.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatalf("platformtest: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return []store.Store{db}
	case "postgres-replicas":
		url := pgtest.NewDatabase(t)
		var out []store.Store
		for range n {
			db, err := postgres.Open(ctx, url, postgres.Options{Clock: clock})
			if err != nil {
				t.Fatalf("platformtest: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			out = append(out, db)
		}
		return out
	default:
		t.Fatalf("platformtest: %s=%q (want sqlite or postgres-replicas)", EnvBackend, v)
		return nil
	}
}

// alternate sends request i to handler i mod n: a load balancer in front
// of replicas, at its most unforgiving (consecutive requests of one client
// never reach the same replica). Event streams (GET /api/v1/events) all go
// to the first replica, as long-lived connections stay where they landed:
// their counters are per process (Server() is the first replica's; the
// caps count every replica's streams through the store), and every change
// written through the other replica must still reach them, woken through
// the database.
func alternate(hs []http.Handler) http.Handler {
	var n atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.BasePath+"/events" {
			hs[0].ServeHTTP(w, r)
			return
		}
		hs[(n.Add(1)-1)%uint64(len(hs))].ServeHTTP(w, r)
	})
}

func (p *Platform) serve(ln net.Listener) {
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: p.opts.ReadTimeout, WriteTimeout: p.opts.WriteTimeout,
		MaxHeaderBytes: server.HTTPServerMaxHeaderBytes}
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

// Server is the platform's handler (with replicas: the first replica's),
// for its counters (OpenStreams).
func (p *Platform) Server() *server.Server { return p.servers[0] }

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
