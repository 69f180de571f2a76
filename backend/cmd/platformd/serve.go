package main

import (
	"context"
	"fmt"
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
)

func cmdServe(ctx context.Context, args []string, c *cli) error {
	stderr, log := c.stderr, c.log
	fs := c.flags()
	dbPath := fs.String("db", "", dbFlagHelp)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	seedName := fs.String("seed", "", "seed the empty database first: demo")
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "end sessions unused for this long")
	absolute := fs.Duration("absolute-timeout", server.DefaultAbsoluteTimeout, "end sessions this long after sign-in")
	trustProxy := fs.Bool("trust-proxy", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it)")
	accountLimit := fs.Int("login-account-limit", server.DefaultThrottle().AccountLimit, "failed sign-ins per account per window")
	ipLimit := fs.Int("login-ip-limit", server.DefaultThrottle().IPLimit, "failed sign-ins per client IP per window")
	window := fs.Duration("login-window", server.DefaultThrottle().Window, "sign-in throttling window")
	retain := fs.Duration("retain-ended", server.DefaultRetention, "delete sessions this long after they ended (expired or terminated); the audit log is kept")
	retainDevices := fs.Duration("retain-devices", api.DefaultRetainDevices, "delete untrusted devices neither seen nor changed for this long once no session refers to them; trusted devices are kept")
	maxSessions := fs.Int("max-sessions-per-user", api.DefaultMaxSessionsPerUser, "active sessions per user; a sign-in past it ends the user's least recently active session (audited, reason \""+api.SessionLimitReason+"\"); 0: no limit")
	ev := server.DefaultEvents()
	streamsPerSession := fs.Int("events-max-per-session", ev.MaxPerSession, "open event streams (GET /api/v1/events) per session, over every replica on the database")
	streamsPerUser := fs.Int("events-max-per-user", ev.MaxPerUser, "open event streams per user, over all of the user's sessions and every replica")
	streamsPerOrg := fs.Int("events-max-per-org", ev.MaxPerOrg, "open event streams per organization, over every replica on the database")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback `address` (a separate listener; off by default)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate `file` (leaf first, then intermediates); reloaded on SIGHUP")
	tlsKey := fs.String("tls-key", "", "PEM private key `file` of --tls-cert; reloaded on SIGHUP")
	shed := server.DefaultShed()
	fs.IntVar(&shed.Reads.Concurrent, "concurrent-reads", shed.Reads.Concurrent, "list and other read requests served at once")
	fs.IntVar(&shed.Writes.Concurrent, "concurrent-writes", shed.Writes.Concurrent, "terminate, untrust, logout and other writes served at once")
	fs.IntVar(&shed.Logins.Concurrent, "concurrent-logins", shed.Logins.Concurrent, "sign-ins served at once (each spends ~50 ms of CPU in bcrypt; more than CPUs only adds waiting)")
	fs.IntVar(&shed.LoginsPerIP.Concurrent, "concurrent-logins-per-ip", 0, "sign-ins of one client IP (IPv6: its /64) served or waiting for a slot at once; 8 more wait for the address's turn, beyond that 429 (0: half of --concurrent-logins, at least 1)")
	queue := fs.Int("queue", shed.Reads.Queue, "requests of each class (reads, writes, sign-ins) that may wait for a slot; beyond that 503 unavailable with Retry-After")
	fs.DurationVar(&shed.MaxWait, "queue-wait", shed.MaxWait, "longest a request waits for a slot before 503 unavailable with Retry-After")
	noShed := fs.Bool("no-shed", false, "serve every request however many are running (no 503 for load)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on SIGTERM or SIGINT, wait this long for in-flight requests before closing them")
	if err := c.parse(args, "db", "listen"); err != nil {
		return err
	}
	if shed.Reads.Concurrent < 1 || shed.Writes.Concurrent < 1 || shed.Logins.Concurrent < 1 || shed.LoginsPerIP.Concurrent < 0 || *queue < 0 || shed.MaxWait <= 0 {
		fmt.Fprintln(stderr, "--concurrent-* must be at least 1 (--concurrent-logins-per-ip 0 for its default), --queue at least 0 and --queue-wait positive")
		return errUsage
	}
	shed.Reads.Queue, shed.Writes.Queue, shed.Logins.Queue = *queue, *queue, *queue
	if *queue == 0 {
		// ClassLimit reads 0 as "the default" and <0 as "no queue".
		shed.Reads.Queue, shed.Writes.Queue, shed.Logins.Queue = -1, -1, -1
	}
	shed.Off = *noShed
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(stderr, "--tls-cert and --tls-key go together")
		return errUsage
	}
	if *pprofAddr != "" && !loopback(*pprofAddr) {
		fmt.Fprintln(stderr, "--pprof must be a loopback address such as 127.0.0.1:6060")
		return errUsage
	}
	if *seedName != "" && *seedName != "demo" {
		fmt.Fprintf(stderr, "unknown seed %q (want demo)\n", *seedName)
		return errUsage
	}
	if *idle <= 0 || *absolute <= 0 || *retain <= 0 || *retainDevices <= 0 {
		fmt.Fprintln(stderr, "timeouts, --retain-ended and --retain-devices must be positive")
		return errUsage
	}
	if *maxSessions < 0 {
		fmt.Fprintln(stderr, "--max-sessions-per-user must be at least 0 (0: no limit)")
		return errUsage
	}
	if *maxSessions == 0 {
		*maxSessions = -1 // server.Config reads 0 as "the default" and <0 as "no limit"
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if *seedName == "demo" {
		st, err := seed.Demo(ctx, db, time.Now())
		if err != nil {
			return err
		}
		log.Info("seeded demo data", "orgs", st.Orgs, "users", st.Users, "devices", st.Devices, "sessions", st.Sessions)
	}
	h, err := server.New(server.Config{
		Store: db, Logger: log, IdleTimeout: *idle, AbsoluteTimeout: *absolute, TrustProxy: *trustProxy,
		Throttle: server.ThrottleConfig{AccountLimit: *accountLimit, IPLimit: *ipLimit, Window: *window},
		Events: server.EventsConfig{MaxPerSession: *streamsPerSession, MaxPerUser: *streamsPerUser, MaxPerOrg: *streamsPerOrg,
			Notifier: notifierOf(db)},
		Shed:               shed,
		MaxSessionsPerUser: *maxSessions,
	})
	if err != nil {
		return err
	}
	var certs *certReloader
	if *tlsCert != "" {
		if certs, err = newCertReloader(*tlsCert, *tlsKey); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
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
	if *pprofAddr != "" {
		_, stopPprof, err := servePprof(*pprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	// Housekeeping runs off the request path until serve stops.
	hkCtx, stopHousekeeping := context.WithCancel(ctx)
	defer stopHousekeeping()
	go server.RunHousekeeping(hkCtx, server.HousekeepingConfig{Store: db, Log: log, Retention: *retain, RetainDevices: *retainDevices,
		Pause: 50 * time.Millisecond, AttemptWindow: max(24*time.Hour, *window)})
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
	log.Info("platformd listening", "addr", ln.Addr().String(), "scheme", scheme, "db", redactDB(*dbPath),
		"idle_timeout", idle.String(), "absolute_timeout", absolute.String())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Shutdown closes the listener at once (new connections are refused),
	// closes idle connections, and waits for the in-flight requests to
	// finish; the deferred db.Close then closes the store after them.
	log.Info("shutting down; draining in-flight requests", "drain_timeout", drain.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", *drain, err)
	}
	log.Info("stopped")
	return nil
}
