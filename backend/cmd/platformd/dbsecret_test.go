package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"

	"sessiondesk/backend/store/postgres/pgtest"
)

// dbPassword is a database password the tests put in PostgreSQL URLs. The
// throwaway cluster authenticates by trust, so any password connects; what
// matters is where it shows up.
const dbPassword = "pw-that-must-stay-secret-4711"

// TestDBPasswordInQueryIsNotLogged serves a PostgreSQL URL that carries its
// password as a query parameter (pgx reads ?password= like the userinfo
// one). url.Redacted masks only the userinfo, so the startup line logged
// the password in clear for anyone who reads the journal.
func TestDBPasswordInQueryIsNotLogged(t *testing.T) {
	bin := buildPlatformd(t)
	for _, param := range []string{"password", "sslpassword"} {
		t.Run(param, func(t *testing.T) {
			db := pgtest.NewDatabase(t) + "&" + param + "=" + dbPassword
			d := startDaemon(t, bin, "--db", db)
			resp, err := http.Get("http://" + d.addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz %d", resp.StatusCode)
			}
			d.signal(syscall.SIGTERM)
			d.waitExit()
			logs := d.log()
			if !strings.Contains(logs, "platformd listening") || !strings.Contains(logs, "postgres://postgres@") {
				t.Fatalf("no startup line naming the database:\n%s", logs)
			}
			if strings.Contains(logs, dbPassword) {
				t.Fatalf("the log holds the database password:\n%s", logs)
			}
		})
	}
}
