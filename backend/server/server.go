// Package server is platformd's HTTP layer: Platform API v1 over net/http.
//
// Every request passes, in order: panic recovery (a panic is a 500 internal
// with no details), access logging (method, path, status, duration; never
// headers or bodies; the path cut to api.MaxLoggedPathBytes), the header
// limit (api.MaxHeaderBytes, 431), routing (unknown paths are 404 not_found
// and wrong methods 405 method_not_allowed, both as JSON error bodies),
// reading the body into memory (decode.go), load shedding, authentication
// and authorization (each route names the permission it needs; see Routes).
//
// Authentication looks the Bearer token's SHA-256 up in the store on every
// request. There is no cache, so a terminated session's token is refused on
// the very next request. Use of a session is recorded (last_active_at, which
// slides the idle expiry) at most once per minute per session.
//
// Errors are one table: store.ENotFound → 404, store.EInvalid → 400,
// store.EConflict → 400, store.EUnavailable (disk full, I/O error) → 503
// with its message, which /healthz also reports until a write succeeds;
// anything else is logged with slog and answered as a bare 500 internal
// whose message never carries details.
//
// Before a handler runs, a body that is not JSON is refused with 415
// (harden.go), the body is read within a time limit (408 when it is slower;
// decode.go), and then a route's class (sign-in, reads, writes) may shed the
// request (shed.go). Every answer carries nosniff and no-store.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// Default session lifetimes.
const (
	DefaultIdleTimeout     = 12 * time.Hour
	DefaultAbsoluteTimeout = 7 * 24 * time.Hour
	// TouchInterval is how stale last_active_at may get before a request
	// writes it again.
	TouchInterval = time.Minute
)

// Config configures a Server.
type Config struct {
	Store  store.Store
	Logger *slog.Logger     // nil discards logs
	Clock  func() time.Time // nil means time.Now
	// IdleTimeout ends a session not used for this long; AbsoluteTimeout ends
	// every session this long after sign-in. Zero means the default.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Throttle        ThrottleConfig
	// TrustProxy takes the client IP from the last X-Forwarded-For entry
	// (what the nearest proxy saw) instead of the connection's address. Only
	// set it behind a proxy that sets that header.
	TrustProxy bool
	// PasswordCost is the bcrypt cost of the stored password hashes (0 means
	// bcrypt.DefaultCost). Sign-ins of unknown users are checked against a
	// dummy hash of this cost, so they take as long as real ones.
	PasswordCost int
	// Events configures GET /api/v1/events (events.go).
	Events EventsConfig
	// Shed bounds the requests served at once per route class (shed.go);
	// the zero value means DefaultShed.
	Shed ShedConfig
	// BodyReadTimeout is how long a request may take to send its body,
	// which is read before the request takes a shedding slot (decode.go);
	// slower is 408 request_timeout. Zero means api.BodyReadTimeout.
	BodyReadTimeout time.Duration
	// MaxSessionsPerUser caps each user's active sessions: a sign-in past
	// it ends the user's least recently active session(s) in the same
	// step, audited as session.terminate by the system with the reason
	// api.SessionLimitReason. 0 means api.DefaultMaxSessionsPerUser; below
	// 0, no cap.
	MaxSessionsPerUser int
}

// bodyPoolSize is how many 64 KiB body buffers a Server keeps for reuse
// (2 MiB); more in use at once are allocated and left to the GC.
const bodyPoolSize = 32

// Server serves Platform API v1.
type Server struct {
	store      store.Store
	log        *slog.Logger
	clock      func() time.Time
	idle       time.Duration
	absolute   time.Duration
	throttle   *throttle
	trustProxy bool
	dummyHash  []byte
	mux        *http.ServeMux
	bufs       bufPool // response buffers of the list encoders (jsonenc.go)
	notifier   store.ChangeNotifier
	events     *hub // live streams (events.go)
	shed       *shedder
	bodies     bufPool       // request bodies larger than 512 bytes (decode.go)
	bodyWait   time.Duration // Config.BodyReadTimeout
	maxActive  int           // sessions per user; 0: no cap
	// unwritable is why the store last failed to write (nil: it writes).
	// /healthz reports it until a write succeeds again.
	unwritable atomic.Pointer[string]
}

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	s := &Server{
		store:      cfg.Store,
		log:        cfg.Logger,
		clock:      cfg.Clock,
		idle:       cfg.IdleTimeout,
		absolute:   cfg.AbsoluteTimeout,
		trustProxy: cfg.TrustProxy,
		mux:        http.NewServeMux(),
		bufs:       newBufPool(),
		shed:       newShedder(cfg.Shed),
		bodies:     make(bufPool, bodyPoolSize),
		bodyWait:   cfg.BodyReadTimeout,
	}
	orDefault(&s.bodyWait, api.BodyReadTimeout)
	discardIfNil(&s.log)
	nowIfNil(&s.clock)
	orDefault(&s.idle, DefaultIdleTimeout)
	orDefault(&s.absolute, DefaultAbsoluteTimeout)
	switch s.maxActive = cfg.MaxSessionsPerUser; {
	case s.maxActive == 0:
		s.maxActive = api.DefaultMaxSessionsPerUser
	case s.maxActive < 0:
		s.maxActive = 0
	}
	s.throttle = newThrottle(cfg.Throttle, s.clock, s.store, s.log)
	// Unknown users are compared against this hash so that they take as long
	// as known ones and timing does not reveal which e-mails exist.
	h, err := store.HashPassword("not-a-password", cfg.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("server: dummy hash: %w", err)
	}
	s.dummyHash = h
	ev := cfg.Events.withDefaults()
	s.notifier = ev.Notifier
	s.events = newHub(s, ev)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.endpoint(rt))
	}
	return s, nil
}

// ServeHTTP recovers panics, logs the request and routes it, answering
// unknown routes and methods with JSON errors.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	setSafetyHeaders(w.Header())
	rec := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", logMethod(r), "path", logPath(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote {
				s.writeError(rec, r, errorf(api.CodeInternal, "internal error"))
			}
		}
		s.log.Info("request", "method", logMethod(r), "path", logPath(r), "status", rec.status, "duration", time.Since(start))
	}()
	if err := checkHeaderSize(r); err != nil {
		if r.ProtoMajor == 1 {
			rec.Header().Set("Connection", "close")
		}
		s.writeError(rec, r, err)
		return
	}
	// The mux answers a path that is not in canonical form (//x, /a/../b)
	// with a redirect to the cleaned one, and would do so before any route
	// runs. No route of the API has such a path, and a redirect (with an
	// HTML body) is not an answer an API client can use: it is a 404.
	if p := r.URL.Path; p == "" || path.Clean(p) != p {
		s.writeError(rec, r, errorf(api.CodeNotFound, "no such endpoint"))
		return
	}
	// Handler only tells whether a route matches; ServeHTTP of the mux is
	// what sets the path values.
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		// The mux's own 404/405/redirect: capture its status and Allow
		// header, answer in JSON.
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			rec.Header().Set("Allow", probe.header.Get("Allow"))
			s.writeError(rec, r, errorf(api.CodeMethodNotAllowed, "method %s is not allowed here", r.Method))
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			s.writeError(rec, r, errorf(api.CodeNotFound, "no such endpoint (did you mean %s?)", probe.header.Get("Location")))
		default:
			s.writeError(rec, r, errorf(api.CodeNotFound, "no such endpoint"))
		}
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// clientIP is the connection's address, or with TrustProxy the last
// X-Forwarded-For entry.
func (s *Server) clientIP(r *http.Request) string {
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if _, err := s.store.IsEmpty(r.Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		return errorf(api.CodeUnavailable, "the database is not available")
	}
	if why := s.unwritable.Load(); why != nil {
		// Try a write, so that a replica a load balancer took out of
		// service (and so gets no writes) still comes back by itself.
		wc, ok := s.store.(store.WriteChecker)
		if !ok {
			return errorf(api.CodeUnavailable, "%s", *why)
		}
		if err := wc.CheckWritable(r.Context()); err != nil {
			s.log.Warn("the database is still not writable", "err", err)
			if msg := store.ErrorMessage(err); store.ErrorCode(err) == store.EUnavailable {
				return errorf(api.CodeUnavailable, "%s", msg)
			}
			return errorf(api.CodeUnavailable, "%s", *why)
		}
		s.unwritable.CompareAndSwap(why, nil)
		s.log.Info("the database is writable again")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// probeWriter records what the mux would answer for an unmatched request.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
