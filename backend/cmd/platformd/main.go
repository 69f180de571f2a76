// Command platformd is the Sessions Desk platform service: it owns
// organizations, users, sessions and devices in a SQLite file or a
// PostgreSQL database and serves Platform API v1 over HTTP. Its commands
// and flags are listed by "platformd --help" (generated from the flag sets,
// see cli.go); what they do beyond that:
//
// --db is a SQLite file or a PostgreSQL URL (postgres://…); any number of
// serve processes may share one PostgreSQL database. Left out, it is read
// from $PLATFORMD_DB, which keeps a URL's password off the command line
// (every local user can read a process's arguments); logs mask passwords. copy moves a SQLite
// platform into an empty PostgreSQL database, token hashes included, so
// nobody is signed out; its --to, left out, is read from $PLATFORMD_DB too.
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
	"context"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/sqlite"
)

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

// redactDB is --db as it may be logged: a URL without its passwords. pgx
// takes a password from the userinfo and also from the query (password=,
// and sslpassword= for the client key), so every query parameter whose name
// holds "password" is masked too.
func redactDB(db string) string {
	if !postgres.IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if q, err := url.ParseQuery(u.RawQuery); err != nil {
		u.RawQuery = "(unparsable query)"
	} else {
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// dbFlagHelp is the help of every --db flag.
const dbFlagHelp = "SQLite database `file` (created with mode 0600) or PostgreSQL URL (postgres://user@host:port/db); when left out, $" + envDB + " (keeps a password off the command line, which every local user can read)"

// envDB names the environment variable a left-out --db is read from.
const envDB = "PLATFORMD_DB"
