// Command platformd is the Sessions Desk platform service: it owns
// organizations, users, sessions and devices in a SQLite file and serves
// Platform API v1 over HTTP.
//
//	platformd serve  --db FILE --listen HOST:PORT [--seed demo] [--idle-timeout 12h] [--absolute-timeout 168h] [--tls-cert FILE --tls-key FILE] [--pprof 127.0.0.1:6060]
//	platformd seed   --db FILE (--demo | --large-org SLUG --sessions N --devices M)
//	platformd copy   --from FILE --to postgres://USER@HOST:PORT/DB
//	platformd org create  --db FILE --slug S --name N
//	platformd user add    --db FILE --org S --email E --name N --role R [--password-stdin]
//	platformd user passwd --db FILE --org S --email E [--password-stdin]
//	platformd user totp   --db FILE --org S --email E
//	platformd user list   --db FILE --org S
//	platformd version
//
// --db is a SQLite file or a PostgreSQL URL (postgres://…); any number of
// serve processes may share one PostgreSQL database. copy moves a SQLite
// platform into an empty PostgreSQL database, token hashes included, so
// nobody is signed out.
//
// Every command takes --help. The database file is created with mode 0600.
// serve drains in-flight requests on SIGINT or SIGTERM (refusing new
// connections at once), closes the database and exits 0; with --tls-cert and
// --tls-key it serves HTTPS and reloads the pair on SIGHUP. Logs are
// slog text on stderr; passwords, tokens and TOTP secrets are never logged
// (a generated password or an enrolled secret is printed once on stdout).
//
// user passwd and user totp end every active session of the user and revoke
// the trust of the user's devices in the same transaction as the change, and
// audit it (user.password_reset, user.totp_reset; target the user, count the
// sessions ended). The command line is no user: its audit events read back
// with the actor {"id": "system", "email": "", "name": "platformd (command
// line)"}, and the sessions it ends have terminated_by null.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/sqlite"
	"sessiondesk/backend/totp"
)

const usage = `platformd — the Sessions Desk platform service

Usage:
  platformd serve       --db FILE --listen HOST:PORT [--seed demo] [--idle-timeout 12h] [--absolute-timeout 168h] [--retain-ended 720h]
                        [--tls-cert FILE --tls-key FILE] [--trust-proxy] [--pprof HOST:PORT] [load-shedding flags]
  platformd seed        --db FILE (--demo | --large-org SLUG --sessions N --devices M)
  platformd copy        --from FILE --to postgres://USER@HOST:PORT/DB
  platformd org create  --db FILE --slug SLUG --name NAME
  platformd user add    --db FILE --org SLUG --email EMAIL --name NAME --role ROLE [--password-stdin]
  platformd user passwd --db FILE --org SLUG --email EMAIL [--password-stdin]
  platformd user totp   --db FILE --org SLUG --email EMAIL
  platformd user list   --db FILE --org SLUG
  platformd version

Roles: security_admin, auditor, member.
Run "platformd COMMAND --help" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=…" by
// build/scripts/lib.sh (project_version: the git tag or 0.0.0+commit), the
// same value the app and the packages carry.
var version = "dev"

// gcPercent is the GC target unless GOGC is set. platformd's live heap is
// 1-2 MB while a page of 1000 sessions allocates a few MB, so at Go's
// default of 100 (a 4 MB heap goal) a walk of 100,000 sessions ran 104
// collections and the scavenger kept handing the same pages back to the
// kernel. At 400 (a 16 MB goal) it runs 18, and the server's CPU per walk
// fell from 1.85 s to 1.33 s.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks an error whose message is already printed with the usage.
var errUsage = errors.New("usage")

// run executes one command and returns the exit status: 0 ok, 1 failure,
// 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	err := dispatch(ctx, args, stdin, stdout, stderr, log)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "platformd:", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if (cmd == "org" || cmd == "user") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		sub, rest = rest[0], rest[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		return cmdServe(ctx, rest, stderr, log)
	case "seed ":
		return cmdSeed(ctx, rest, stdout, stderr, log)
	case "copy ":
		return cmdCopy(ctx, rest, stdout, stderr, log)
	case "org create":
		return cmdOrgCreate(ctx, rest, stdout, stderr)
	case "user add":
		return cmdUserAdd(ctx, rest, stdin, stdout, stderr)
	case "user passwd":
		return cmdUserPasswd(ctx, rest, stdin, stdout, stderr)
	case "user totp":
		return cmdUserTOTP(ctx, rest, stdout, stderr)
	case "user list":
		return cmdUserList(ctx, rest, stdout, stderr)
	case "version ", "--version ", "-version ":
		fmt.Fprintln(stdout, "platformd", version)
		return nil
	case "help ", "-h ", "--help ", "-help ":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "platformd: unknown command %q\n\n%s", strings.TrimSpace(cmd+" "+sub), usage)
		return errUsage
	}
}

// newFlags makes a flag set whose --help prints the synopsis and flags.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: platformd %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; a parse error has been printed and becomes errUsage.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			fmt.Fprintf(fs.Output(), "--%s is required\n", name)
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// openDB opens the store --db names: a postgres:// (or postgresql://) URL
// is a PostgreSQL database, anything else a SQLite file.
func openDB(ctx context.Context, path string) (store.Store, error) {
	if postgres.IsURL(path) {
		return postgres.Open(ctx, path, postgres.Options{})
	}
	return sqlite.Open(ctx, path, sqlite.Options{})
}

// notifierOf is the change notifier of the store: on PostgreSQL the one
// that also wakes the event streams of the other replicas (LISTEN/NOTIFY);
// nil (in-process) for SQLite, which has one process.
func notifierOf(db store.Store) store.ChangeNotifier {
	if pg, ok := db.(*postgres.DB); ok {
		return pg.Notifier()
	}
	return nil
}

// redactDB is --db as it may be logged: a URL without its password.
func redactDB(db string) string {
	if !postgres.IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// dbFlagHelp is the help of every --db flag.
const dbFlagHelp = "SQLite database `file` (created with mode 0600) or PostgreSQL URL (postgres://user@host:port/db)"

func cmdServe(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("serve", "serve --db FILE --listen HOST:PORT [flags]", stderr)
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
	ev := server.DefaultEvents()
	streamsPerSession := fs.Int("events-max-per-session", ev.MaxPerSession, "open event streams (GET /api/v1/events) per session")
	streamsPerOrg := fs.Int("events-max-per-org", ev.MaxPerOrg, "open event streams per organization on this process")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback `address` (a separate listener; off by default)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate `file` (leaf first, then intermediates); reloaded on SIGHUP")
	tlsKey := fs.String("tls-key", "", "PEM private key `file` of --tls-cert; reloaded on SIGHUP")
	shed := server.DefaultShed()
	fs.IntVar(&shed.Reads.Concurrent, "concurrent-reads", shed.Reads.Concurrent, "list and other read requests served at once")
	fs.IntVar(&shed.Writes.Concurrent, "concurrent-writes", shed.Writes.Concurrent, "terminate, untrust, logout and other writes served at once")
	fs.IntVar(&shed.Logins.Concurrent, "concurrent-logins", shed.Logins.Concurrent, "sign-ins served at once (each spends ~50 ms of CPU in bcrypt)")
	queue := fs.Int("queue", shed.Reads.Queue, "requests of each class (reads, writes, sign-ins) that may wait for a slot; beyond that 503 unavailable with Retry-After")
	fs.DurationVar(&shed.MaxWait, "queue-wait", shed.MaxWait, "longest a request waits for a slot before 503 unavailable with Retry-After")
	noShed := fs.Bool("no-shed", false, "serve every request however many are running (no 503 for load)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on SIGTERM or SIGINT, wait this long for in-flight requests before closing them")
	if err := parse(fs, args, "db", "listen"); err != nil {
		return err
	}
	if shed.Reads.Concurrent < 1 || shed.Writes.Concurrent < 1 || shed.Logins.Concurrent < 1 || *queue < 0 || shed.MaxWait <= 0 {
		fmt.Fprintln(stderr, "--concurrent-* must be at least 1, --queue at least 0 and --queue-wait positive")
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
	if *idle <= 0 || *absolute <= 0 || *retain <= 0 {
		fmt.Fprintln(stderr, "timeouts and --retain-ended must be positive")
		return errUsage
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
		Events:   server.EventsConfig{MaxPerSession: *streamsPerSession, MaxPerOrg: *streamsPerOrg, Notifier: notifierOf(db)},
		Shed:     shed,
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
		Handler:           h,
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
	go server.RunHousekeeping(hkCtx, server.HousekeepingConfig{Store: db, Log: log, Retention: *retain,
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

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("seed", "seed --db FILE (--demo | --large-org SLUG --sessions N --devices M)", stderr)
	dbPath := fs.String("db", "", dbFlagHelp)
	demo := fs.Bool("demo", false, "seed the demo organizations (needs an empty database)")
	large := fs.String("large-org", "", "create one large organization with this `slug`")
	name := fs.String("name", "", "display name of the large organization (default: the slug)")
	sessions := fs.Int("sessions", 100_000, "active sessions of the large organization")
	devices := fs.Int("devices", 20_000, "devices of the large organization")
	if err := parse(fs, args, "db"); err != nil {
		return err
	}
	if *demo == (*large != "") {
		fmt.Fprintln(stderr, "give exactly one of --demo and --large-org")
		fs.Usage()
		return errUsage
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	var st seed.Stats
	if *demo {
		st, err = seed.Demo(ctx, db, time.Now())
	} else {
		st, err = seed.Large(ctx, db, time.Now(), seed.LargeOptions{Slug: *large, Name: *name, Sessions: *sessions, Devices: *devices})
	}
	if err != nil {
		return err
	}
	log.Info("seeded", "orgs", st.Orgs, "users", st.Users, "devices", st.Devices, "sessions", st.Sessions, "took", time.Since(start).Round(time.Millisecond).String())
	fmt.Fprintf(stdout, "seeded %d organization(s), %d users, %d devices, %d sessions; every user's password is %q\n",
		st.Orgs, st.Users, st.Devices, st.Sessions, seed.DemoPassword)
	if *large != "" {
		fmt.Fprintf(stdout, "sign in as admin@%s.test\n", *large)
	}
	return nil
}

func cmdOrgCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("org create", "org create --db FILE --slug SLUG --name NAME", stderr)
	dbPath := fs.String("db", "", dbFlagHelp)
	slug := fs.String("slug", "", "short `name` used to sign in, e.g. acme")
	name := fs.String("name", "", "display `name`, e.g. \"Acme Health\"")
	if err := parse(fs, args, "db", "slug", "name"); err != nil {
		return err
	}
	if !validSlug(*slug) {
		fmt.Fprintln(stderr, "--slug must be 1-63 lower-case letters, digits or dashes")
		return errUsage
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.CreateOrg(ctx, *slug, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created organization %s (%s)\n", o.Slug, o.ID)
	return nil
}

func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// userFlags are the flags that find one user.
type userFlags struct {
	db, org, email *string
}

func addUserFlags(fs *flag.FlagSet) userFlags {
	return userFlags{
		db:    fs.String("db", "", dbFlagHelp),
		org:   fs.String("org", "", "organization `slug`"),
		email: fs.String("email", "", "the user's e-mail `address`"),
	}
}

func findUser(ctx context.Context, db store.Store, org, email string) (store.User, error) {
	o, err := db.OrgBySlug(ctx, org)
	if err != nil {
		return store.User{}, fmt.Errorf("organization %q: %w", org, err)
	}
	u, err := db.UserByEmail(ctx, o.ID, email)
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// password reads the first line of stdin, or generates one.
func password(fromStdin bool, stdin io.Reader) (pw string, generated bool, err error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if len(pw) < 8 || len(pw) > 72 {
			return "", false, errors.New("the password must be 8 to 72 bytes")
		}
		return pw, false, nil
	}
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), true, nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", "user add --db FILE --org SLUG --email EMAIL --name NAME --role ROLE [--password-stdin]", stderr)
	uf := addUserFlags(fs)
	name := fs.String("name", "", "display `name`")
	role := fs.String("role", "", store.RoleList())
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (otherwise one is generated and printed once)")
	if err := parse(fs, args, "db", "org", "email", "name", "role"); err != nil {
		return err
	}
	if !store.ValidRole(*role) {
		fmt.Fprintln(stderr, "--role must be "+store.RoleList())
		return errUsage
	}
	if !strings.Contains(*uf.email, "@") {
		fmt.Fprintln(stderr, "--email must be an e-mail address")
		return errUsage
	}
	pw, generated, err := password(*fromStdin, stdin)
	if err != nil {
		return err
	}
	hash, err := store.HashPassword(pw, 0)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *uf.db)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgBySlug(ctx, *uf.org)
	if err != nil {
		return fmt.Errorf("organization %q: %w", *uf.org, err)
	}
	u, err := db.CreateUser(ctx, store.NewUser{OrgID: o.ID, Email: *uf.email, Name: *name, Role: *role, PasswordHash: hash})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s) in %s with role %s\n", u.Email, u.ID, o.Slug, u.Role)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
	}
	return nil
}

func cmdUserPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user passwd", "user passwd --db FILE --org SLUG --email EMAIL [--password-stdin]", stderr)
	uf := addUserFlags(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (otherwise one is generated and printed once)")
	if err := parse(fs, args, "db", "org", "email"); err != nil {
		return err
	}
	pw, generated, err := password(*fromStdin, stdin)
	if err != nil {
		return err
	}
	hash, err := store.HashPassword(pw, 0)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *uf.db)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := findUser(ctx, db, *uf.org, *uf.email)
	if err != nil {
		return err
	}
	// The command line is no user: the audit event's actor is the "system"
	// actor (store.SystemActor), the reason names the command.
	rv, err := db.SetPassword(ctx, u.ID, hash, store.Actor{Reason: "password reset with platformd user passwd"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s changed; ended %d session(s), revoked the trust of %d device(s)\n", u.Email, rv.Sessions, rv.Devices)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
	}
	return nil
}

func cmdUserTOTP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user totp", "user totp --db FILE --org SLUG --email EMAIL", stderr)
	uf := addUserFlags(fs)
	if err := parse(fs, args, "db", "org", "email"); err != nil {
		return err
	}
	db, err := openDB(ctx, *uf.db)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := findUser(ctx, db, *uf.org, *uf.email)
	if err != nil {
		return err
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return err
	}
	rv, err := db.SetTOTPSecret(ctx, u.ID, secret, store.Actor{Reason: "TOTP enrolled with platformd user totp"})
	if err != nil {
		return err
	}
	uri := "otpauth://totp/" + url.PathEscape("Sessions Desk:"+u.Email) + "?secret=" + secret +
		"&issuer=" + url.QueryEscape("Sessions Desk") + "&algorithm=SHA1&digits=6&period=30"
	fmt.Fprintf(stdout, "enrolled %s in TOTP; ended %d session(s), revoked the trust of %d device(s)\n", u.Email, rv.Sessions, rv.Devices)
	fmt.Fprintf(stdout, "add this secret to an authenticator app (shown once):\n%s\n%s\n", secret, uri)
	return nil
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user list", "user list --db FILE --org SLUG", stderr)
	dbPath := fs.String("db", "", dbFlagHelp)
	org := fs.String("org", "", "organization `slug`")
	if err := parse(fs, args, "db", "org"); err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgBySlug(ctx, *org)
	if err != nil {
		return fmt.Errorf("organization %q: %w", *org, err)
	}
	users, err := db.ListUsers(ctx, o.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tTOTP")
	for _, u := range users {
		mfa := "no"
		if u.HasTOTP() {
			mfa = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, mfa)
	}
	return tw.Flush()
}
