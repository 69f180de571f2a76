package main

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/seed"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
	"sessiondesk/backend/store/sqlite"
	"sessiondesk/backend/store/storetest"
)

// copy moves a SQLite platform into an empty PostgreSQL database: every
// session keeps its token hash (its holder stays signed in), devices keep
// their secrets, users their TOTP state, the audit log its events, and the
// feed its updated_at values; a second copy into the now full database is
// refused.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	path := filepath.Join(t.TempDir(), "platform.db")
	src, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Demo(ctx, src, time.Now()); err != nil {
		t.Fatal(err)
	}
	org, err := src.OrgBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u, err := src.UserByEmail(ctx, org.ID, "mfa@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	token := sha256.Sum256([]byte("a token"))
	secret := sha256.Sum256([]byte("a device secret"))
	ses, dev, err := src.SignIn(ctx, store.SignIn{UserID: u.ID, TokenHash: token[:], DeviceName: "d", DevicePlatform: "p",
		TrustDevice: true, TrustSecretHash: secret[:], IP: "192.0.2.1", MFA: true, Idle: time.Hour, Absolute: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := src.UseTOTPStep(ctx, u.ID, 1000); err != nil || !ok {
		t.Fatal(ok, err)
	}
	// A bulk end, so the copy carries an event's target_ids.
	if n, err := src.TerminateAll(ctx, org.ID, ses.ID, store.Actor{UserID: u.ID}); err != nil || n == 0 {
		t.Fatalf("terminate-all before the copy = %d %v", n, err)
	}
	srcSessions := everySession(t, src, org.ID)
	srcAudit, err := src.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcAudit.Items) == 0 || len(srcAudit.Items[0].TargetIDs) == 0 {
		t.Fatalf("no audit event with target_ids to copy: %+v", srcAudit.Items)
	}
	src.Close()

	code, out, errOut := runCmd(t, "", "copy", "--from", path, "--to", url)
	if code != 0 {
		t.Fatalf("copy: %d %s", code, errOut)
	}
	if !strings.Contains(out, "the counts match") {
		t.Errorf("copy said %q", out)
	}
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	p, err := dst.Authenticate(ctx, token[:])
	if err != nil || p.Session.ID != ses.ID || p.Session.Status(time.Now()) != store.StatusActive {
		t.Errorf("the copied session does not authenticate: %+v %v", p.Session, err)
	}
	if d, err := dst.DeviceOfUser(ctx, u.ID, dev.ID); err != nil || !d.Trusted() || string(d.TrustSecretHash) != string(secret[:]) {
		t.Errorf("copied device = %+v %v", d, err)
	}
	if pu, err := dst.UserByEmail(ctx, org.ID, "mfa@acme.test"); err != nil || pu.TOTPSecret != u.TOTPSecret || string(pu.PasswordHash) != string(u.PasswordHash) {
		t.Errorf("copied user = %+v %v", pu, err)
	}
	if ok, _ := dst.UseTOTPStep(ctx, u.ID, 1000); ok {
		t.Error("a TOTP step used before the copy was accepted again")
	}
	if got := everySession(t, dst, org.ID); !reflect.DeepEqual(got, srcSessions) {
		t.Errorf("sessions differ after the copy: %d vs %d", len(got), len(srcSessions))
	}
	if got, err := dst.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 1000}); err != nil || !reflect.DeepEqual(got.Items, srcAudit.Items) {
		t.Errorf("audit differs after the copy: %d vs %d (%v)", len(got.Items), len(srcAudit.Items), err)
	}
	// New changes sort after every copied one.
	ended, err := dst.TerminateSession(ctx, org.ID, ses.ID, store.Actor{UserID: u.ID})
	if err != nil || !ended.UpdatedAt.After(srcSessions[len(srcSessions)-1].UpdatedAt) {
		t.Errorf("a change after the copy at %v, not after the newest copied one: %v", ended.UpdatedAt, err)
	}

	code, _, errOut = runCmd(t, "", "copy", "--from", path, "--to", url)
	if code != 1 || !strings.Contains(errOut, "not empty") {
		t.Errorf("a copy into a full database: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "copy", "--from", filepath.Join(t.TempDir(), "missing.db"), "--to", pgtest.NewDatabase(t)); code != 1 {
		t.Errorf("a copy of a missing file: %d", code)
	}
}

// everySession is the org's feed from the beginning (every status, in
// updated_at order).
func everySession(t *testing.T, s store.Store, orgID string) []store.Session {
	t.Helper()
	since := time.Unix(0, 0)
	return storetest.AllSessions(t, s, orgID, store.SessionFilter{UpdatedSince: &since, Limit: 1000})
}

// Issue 18, finding 10: copy took the PostgreSQL URL, password and all,
// only as --to, where every local user reads it (ps, /proc/PID/cmdline)
// and the shell history keeps it. Left out, --to is now $PLATFORMD_DB, like
// every --db; the password shows up in no output, and a $PLATFORMD_DB that
// is no URL is refused without echoing it.
func TestCopyTakesTheTargetFromTheEnvironment(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "platform.db")
	if code, _, errOut := runCmd(t, "", "org", "create", "--db", path, "--slug", "initech", "--name", "Initech"); code != 0 {
		t.Fatalf("org create: %d %s", code, errOut)
	}
	url := pgtest.NewDatabase(t) + "&password=" + dbPassword

	t.Setenv(envDB, "")
	if code, _, errOut := runCmd(t, "", "copy", "--from", path); code != 2 || !strings.Contains(errOut, "--to is required") {
		t.Errorf("copy without --to or $%s: %d %s", envDB, code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "copy", "--help"); code != 0 || !strings.Contains(errOut, "when left out, $"+envDB) {
		t.Errorf("copy --help does not name $%s: %s", envDB, errOut)
	}
	t.Setenv(envDB, "/srv/"+dbPassword+".db")
	if code, _, errOut := runCmd(t, "", "copy", "--from", path); code != 2 || !strings.Contains(errOut, envDB) || strings.Contains(errOut, dbPassword) {
		t.Errorf("copy into a $%s that is no URL: %d %s", envDB, code, errOut)
	}

	t.Setenv(envDB, url)
	code, out, errOut := runCmd(t, "", "copy", "--from", path)
	if code != 0 || !strings.Contains(out, "1 orgs") {
		t.Fatalf("copy into $%s: %d %s %s", envDB, code, out, errOut)
	}
	if strings.Contains(out+errOut, dbPassword) {
		t.Errorf("the output holds the database password:\n%s\n%s", out, errOut)
	}
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.OrgBySlug(ctx, "initech"); err != nil {
		t.Errorf("the organization was not copied: %v", err)
	}
	// A second copy into the now full database fails, still without the
	// password in what it says.
	if code, out, errOut := runCmd(t, "", "copy", "--from", path); code != 1 || strings.Contains(out+errOut, dbPassword) {
		t.Errorf("a copy into a full database: %d %s %s", code, out, errOut)
	}
}
