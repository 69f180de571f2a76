package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// serveFlags are the flags of platformd serve.
type serveFlags struct {
	dbPath, listen, seedName, pprofAddr, tlsCert, tlsKey string
	idle, absolute, window, retain, retainDevices, drain time.Duration
	trustProxy, noShed                                   bool
	accountLimit, ipLimit, maxSessions, queue            int
	streams                                              server.EventsConfig // the caps only
	shed                                                 server.ShedConfig
}

func defineServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{shed: server.DefaultShed()}
	fs.StringVar(&f.dbPath, "db", "", dbFlagHelp)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	fs.StringVar(&f.seedName, "seed", "", "seed the empty database first: demo")
	fs.DurationVar(&f.idle, "idle-timeout", server.DefaultIdleTimeout, "end sessions unused for this long")
	fs.DurationVar(&f.absolute, "absolute-timeout", server.DefaultAbsoluteTimeout, "end sessions this long after sign-in")
	fs.BoolVar(&f.trustProxy, "trust-proxy", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it)")
	fs.IntVar(&f.accountLimit, "login-account-limit", server.DefaultThrottle().AccountLimit, "failed sign-ins per account per window")
	fs.IntVar(&f.ipLimit, "login-ip-limit", server.DefaultThrottle().IPLimit, "failed sign-ins per client IP per window")
	fs.DurationVar(&f.window, "login-window", server.DefaultThrottle().Window, "sign-in throttling window")
	fs.DurationVar(&f.retain, "retain-ended", server.DefaultRetention, "delete sessions this long after they ended (expired or terminated); the audit log is kept")
	fs.DurationVar(&f.retainDevices, "retain-devices", api.DefaultRetainDevices, "delete untrusted devices neither seen nor changed for this long once no session refers to them; trusted devices are kept")
	fs.IntVar(&f.maxSessions, "max-sessions-per-user", api.DefaultMaxSessionsPerUser, "active sessions per user; a sign-in past it ends the user's least recently active session (audited, reason \""+api.SessionLimitReason+"\"); 0: no limit")
	ev := server.DefaultEvents()
	fs.IntVar(&f.streams.MaxPerSession, "events-max-per-session", ev.MaxPerSession, "open event streams (GET /api/v1/events) per session, over every replica on the database")
	fs.IntVar(&f.streams.MaxPerUser, "events-max-per-user", ev.MaxPerUser, "open event streams per user, over all of the user's sessions and every replica")
	fs.IntVar(&f.streams.MaxPerOrg, "events-max-per-org", ev.MaxPerOrg, "open event streams per organization, over every replica on the database")
	fs.StringVar(&f.pprofAddr, "pprof", "", "serve net/http/pprof on this loopback `address` (a separate listener; off by default)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate `file` (leaf first, then intermediates); reloaded on SIGHUP")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key `file` of --tls-cert; reloaded on SIGHUP")
	shed := &f.shed
	fs.IntVar(&shed.Reads.Concurrent, "concurrent-reads", shed.Reads.Concurrent, "list and other read requests served at once")
	fs.IntVar(&shed.Writes.Concurrent, "concurrent-writes", shed.Writes.Concurrent, "terminate, untrust, logout and other writes served at once")
	fs.IntVar(&shed.Logins.Concurrent, "concurrent-logins", shed.Logins.Concurrent, "sign-ins served at once (each spends ~50 ms of CPU in bcrypt; more than CPUs only adds waiting)")
	fs.IntVar(&shed.LoginsPerIP.Concurrent, "concurrent-logins-per-ip", 0, "sign-ins of one client IP (IPv6: its /64) served or waiting for a slot at once; 8 more wait for the address's turn, beyond that 429 (0: half of --concurrent-logins, at least 1)")
	fs.IntVar(&f.queue, "queue", shed.Reads.Queue, "requests of each class (reads, writes, sign-ins) that may wait for a slot; beyond that 503 unavailable with Retry-After")
	fs.DurationVar(&shed.MaxWait, "queue-wait", shed.MaxWait, "longest a request waits for a slot before 503 unavailable with Retry-After")
	fs.BoolVar(&f.noShed, "no-shed", false, "serve every request however many are running (no 503 for load)")
	fs.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on SIGTERM or SIGINT, wait this long for in-flight requests before closing them")
	return f
}

// check refuses contradictory or out-of-range flags (saying why on
// stderr) and turns the rest into what server.Config reads.
func (f *serveFlags) check(stderr io.Writer) error {
	shed := &f.shed
	if shed.Reads.Concurrent < 1 || shed.Writes.Concurrent < 1 || shed.Logins.Concurrent < 1 || shed.LoginsPerIP.Concurrent < 0 || f.queue < 0 || shed.MaxWait <= 0 {
		return usageError(stderr, "--concurrent-* must be at least 1 (--concurrent-logins-per-ip 0 for its default), --queue at least 0 and --queue-wait positive")
	}
	shed.Reads.Queue, shed.Writes.Queue, shed.Logins.Queue = f.queue, f.queue, f.queue
	if f.queue == 0 {
		// ClassLimit reads 0 as "the default" and <0 as "no queue".
		shed.Reads.Queue, shed.Writes.Queue, shed.Logins.Queue = -1, -1, -1
	}
	shed.Off = f.noShed
	switch {
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return usageError(stderr, "--tls-cert and --tls-key go together")
	case f.pprofAddr != "" && !loopback(f.pprofAddr):
		return usageError(stderr, "--pprof must be a loopback address such as 127.0.0.1:6060")
	case f.seedName != "" && f.seedName != "demo":
		return usageError(stderr, fmt.Sprintf("unknown seed %q (want demo)", f.seedName))
	case f.idle <= 0 || f.absolute <= 0 || f.retain <= 0 || f.retainDevices <= 0:
		return usageError(stderr, "timeouts, --retain-ended and --retain-devices must be positive")
	case f.maxSessions < 0:
		return usageError(stderr, "--max-sessions-per-user must be at least 0 (0: no limit)")
	}
	if f.maxSessions == 0 {
		f.maxSessions = -1 // server.Config reads 0 as "the default" and <0 as "no limit"
	}
	return nil
}

func (f *serveFlags) serverConfig(db store.Store, log *slog.Logger) server.Config {
	return server.Config{
		Store: db, Logger: log, IdleTimeout: f.idle, AbsoluteTimeout: f.absolute, TrustProxy: f.trustProxy,
		Throttle: server.ThrottleConfig{AccountLimit: f.accountLimit, IPLimit: f.ipLimit, Window: f.window},
		Events: server.EventsConfig{MaxPerSession: f.streams.MaxPerSession, MaxPerUser: f.streams.MaxPerUser, MaxPerOrg: f.streams.MaxPerOrg,
			Notifier: notifierOf(db)},
		Shed:               f.shed,
		MaxSessionsPerUser: f.maxSessions,
	}
}

func cmdServe(ctx context.Context, args []string, c *cli) error {
	log := c.log
	f := defineServeFlags(c.flags())
	if err := c.parse(args, "db", "listen"); err != nil {
		return err
	}
	if err := f.check(c.stderr); err != nil {
		return err
	}
	db, err := openDB(ctx, f.dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if f.seedName == "demo" {
		st, err := seed.Demo(ctx, db, time.Now())
		if err != nil {
			return err
		}
		log.Info("seeded demo data", "orgs", st.Orgs, "users", st.Users, "devices", st.Devices, "sessions", st.Sessions)
	}
	h, err := server.New(f.serverConfig(db, log))
	if err != nil {
		return err
	}
	var certs *certReloader
	if f.tlsCert != "" {
		if certs, err = newCertReloader(f.tlsCert, f.tlsKey); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(h, log)
	if f.pprofAddr != "" {
		_, stopPprof, err := servePprof(f.pprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	// Housekeeping runs off the request path until serve stops.
	hkCtx, stopHousekeeping := context.WithCancel(ctx)
	defer stopHousekeeping()
	go server.RunHousekeeping(hkCtx, server.HousekeepingConfig{Store: db, Log: log, Retention: f.retain, RetainDevices: f.retainDevices,
		Pause: 50 * time.Millisecond, AttemptWindow: max(24*time.Hour, f.window)})
	return f.serve(ctx, srv, ln, certs, log)
}

// newHTTPServer is the http.Server of platformd serve around h.
func newHTTPServer(h *server.Server, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler: h,
		// Above api.MaxHeaderBytes, so that the handler answers 431 in JSON
		// (see server.HTTPServerMaxHeaderBytes); Go's default is 1 MB.
		MaxHeaderBytes:    server.HTTPServerMaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Event streams never finish on their own; Shutdown would wait for them.
	srv.RegisterOnShutdown(h.CloseStreams)
	return srv
}

// serve serves on ln until ctx ends, then drains the in-flight requests.
func (f *serveFlags) serve(ctx context.Context, srv *http.Server, ln net.Listener, certs *certReloader, log *slog.Logger) error {
	// SIGHUP reloads the certificate pair. It is caught even without TLS so
	// that a habitual "kill -HUP" does not end the service.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan struct{})
	defer close(done)
	go certs.reloadOnHUP(hup, done, log)
	served := make(chan error, 1)
	scheme := "http"
	if certs != nil {
		scheme = "https"
		srv.TLSConfig = certs.tlsConfig()
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	log.Info("platformd listening", "addr", ln.Addr().String(), "scheme", scheme, "db", redactDB(f.dbPath),
		"idle_timeout", f.idle.String(), "absolute_timeout", f.absolute.String())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Shutdown closes the listener at once (new connections are refused),
	// closes idle connections, and waits for the in-flight requests to
	// finish; the deferred db.Close then closes the store after them.
	log.Info("shutting down; draining in-flight requests", "drain_timeout", f.drain.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", f.drain, err)
	}
	log.Info("stopped")
	return nil
}
