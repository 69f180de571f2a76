package sqlite

import (
	"context"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

// The store-level cases of the v1.1 bulk ends and audit targets are in
// backend/store/storetest (testBulkEnds, testAuditTargetsAndFilters) and
// run on every store; this file keeps the SQLite-specific one.

// fixture is two organizations: in "a" the users alice and bob, in "b" carol.
type fixture struct {
	a, b              store.Org
	alice, bob, carol store.User
}

func arrangeFixture(t *testing.T, s store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	var f fixture
	var err error
	if f.a, err = s.CreateOrg(ctx, "a", "A"); err != nil {
		t.Fatal(err)
	}
	if f.b, err = s.CreateOrg(ctx, "b", "B"); err != nil {
		t.Fatal(err)
	}
	mk := func(org store.Org, email, name string) store.User {
		u, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: email, Name: name, Role: "member", PasswordHash: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.alice = mk(f.a, "alice@a.test", "Alice Adams")
	f.bob = mk(f.a, "bob@a.test", "Bob Brown")
	f.carol = mk(f.b, "carol@b.test", "Carol Clark")
	return f
}

// signIn creates a session of u from a new device; idle sets how long it
// lives.
func signIn(t *testing.T, s store.Store, u store.User, client, ip string, idle time.Duration) (store.Session, store.Device) {
	t.Helper()
	ses, dev, err := s.SignIn(context.Background(), store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")),
		DeviceName: client, DevicePlatform: "Linux", IP: ip, UserAgent: "UA " + client, Client: client,
		Idle: idle, Absolute: 2 * idle})
	if err != nil {
		t.Fatal(err)
	}
	return ses, dev
}

// When the audit event cannot be written, the bulk ends change nothing: the
// event and the change are one transaction. (SQLite-specific: a trigger makes
// the audit insert fail.)
func TestBulkEndsRollBackWithoutTheirAuditEvent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := arrangeFixture(t, db)
	a1, _ := signIn(t, db, f.alice, "Firefox", "192.0.2.1", time.Hour)
	b1, _ := signIn(t, db, f.bob, "Chrome", "192.0.2.2", time.Hour)
	if _, err := db.wdb.ExecContext(ctx, `CREATE TRIGGER no_audit BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TerminateUserSessions(ctx, f.a.ID, f.alice.ID, "", store.Actor{UserID: f.bob.ID}); err == nil {
		t.Fatal("sign-out everywhere succeeded without its audit event")
	}
	if _, err := db.TerminateSessions(ctx, f.a.ID, []string{a1.ID, b1.ID}, store.Actor{UserID: f.bob.ID}); err == nil {
		t.Fatal("terminate selected succeeded without its audit event")
	}
	for _, id := range []string{a1.ID, b1.ID} {
		if got, _ := db.GetSession(ctx, f.a.ID, id); got.TerminatedAt != nil || !got.UpdatedAt.Equal(map[string]time.Time{a1.ID: a1.UpdatedAt, b1.ID: b1.UpdatedAt}[id]) {
			t.Errorf("session %s changed although its audit event failed: %+v", got.Client, got)
		}
	}
}

// The live change feed carries the bulk ends: every ended session and the
// audit event, which names its target like the audit list does.
func TestBulkEndsReachTheChangeFeed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := arrangeFixture(t, db)
	a1, _ := signIn(t, db, f.alice, "Firefox", "192.0.2.1", time.Hour)
	a2, _ := signIn(t, db, f.alice, "Chrome", "192.0.2.2", time.Hour)
	before, err := db.Changes(ctx, f.a.ID, store.ChangePos{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	after := before[len(before)-1].Pos
	if _, err := db.TerminateUserSessions(ctx, f.a.ID, f.alice.ID, "", store.Actor{UserID: f.bob.ID, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	changes, err := db.Changes(ctx, f.a.ID, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ended := map[string]bool{}
	var audit *store.AuditEvent
	for _, c := range changes {
		switch {
		case c.Session != nil && c.Session.TerminatedAt != nil:
			ended[c.Session.ID] = true
		case c.Audit != nil:
			audit = c.Audit
		}
	}
	if !ended[a1.ID] || !ended[a2.ID] || audit == nil || audit.Action != store.ActionUserSessionsTerminate ||
		audit.TargetUser == nil || audit.TargetUser.Email != "alice@a.test" {
		t.Errorf("changes after sign-out everywhere: ended %v, audit %+v", ended, audit)
	}
}
