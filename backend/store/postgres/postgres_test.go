package postgres_test

import (
	"context"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
	"sessiondesk/backend/store/storetest"
)

// TestStore runs the shared store suite on PostgreSQL: each test gets its
// own database, and "another handle" is a second pool on it, as a second
// replica would have.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t testing.TB, clock func() time.Time) (store.Store, func() store.Store) {
		url := pgtest.NewDatabase(t)
		open := func() store.Store {
			db, err := postgres.Open(context.Background(), url, postgres.Options{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open
	})
}

// When the audit event cannot be written, no destructive write changes
// anything: the event and the change are one transaction. (A trigger makes
// the audit insert fail.)
// openWithUser opens a fresh database on clock (nil: time.Now), closed at
// cleanup, with organization "a" and one user u@a.test of role.
func openWithUser(t *testing.T, clock func() time.Time, role string) (*postgres.DB, store.Org, store.User) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t), postgres.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org, err := db.CreateOrg(ctx, "a", "A")
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "u@a.test", Name: "U", Role: role, PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	return db, org, u
}

func TestDestructiveWritesRollBackWithoutTheirAuditEvent(t *testing.T) {
	ctx := context.Background()
	db, org, u := openWithUser(t, nil, "member")
	s, d, err := db.SignIn(ctx, store.SignIn{UserID: u.ID, TokenHash: []byte("tok"), TrustDevice: true, Idle: time.Hour, Absolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
		CREATE TRIGGER no_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION no_audit()`); err != nil {
		t.Fatal(err)
	}
	by := store.Actor{UserID: u.ID}
	for name, write := range map[string]func() error{
		"terminate":      func() error { _, err := db.TerminateSession(ctx, org.ID, s.ID, by); return err },
		"terminate all":  func() error { _, err := db.TerminateAll(ctx, org.ID, "", by); return err },
		"user sessions":  func() error { _, err := db.TerminateUserSessions(ctx, org.ID, u.ID, "", by); return err },
		"selected":       func() error { _, err := db.TerminateSessions(ctx, org.ID, []string{s.ID}, by); return err },
		"untrust":        func() error { _, err := db.UntrustDevice(ctx, org.ID, d.ID, by); return err },
		"password reset": func() error { _, err := db.SetPassword(ctx, u.ID, []byte("new"), by); return err },
	} {
		if err := write(); err == nil {
			t.Errorf("%s succeeded without its audit event", name)
		}
	}
	if got, _ := db.GetSession(ctx, org.ID, s.ID); got.TerminatedAt != nil || !got.UpdatedAt.Equal(s.UpdatedAt) {
		t.Errorf("the session changed although every audit event failed: %+v", got)
	}
	if got, _ := db.DeviceOfUser(ctx, u.ID, d.ID); !got.Trusted() {
		t.Error("the device lost its trust although its audit event failed")
	}
	if got, _ := db.UserByEmail(ctx, org.ID, "u@a.test"); string(got.PasswordHash) != "x" {
		t.Error("the password changed although its audit event failed")
	}
}

// session_keys holds the lookups by token, creation order and owner so that
// a terminate-all writes only sessions and its two full indexes (see the
// migrations). It must follow sessions through every insert and delete, a
// termination must leave it untouched, and its copied columns must never
// change under it.
func TestSessionKeysFollowSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	db, org, u := openWithUser(t, clock, "admin")
	var ids []string
	for i := range 3 {
		s, _, err := db.SignIn(ctx, store.SignIn{UserID: u.ID, TokenHash: []byte{byte(i)}, Idle: time.Hour, Absolute: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	keys := func() map[string]string { // session ID → the row version (xmin) of its keys row
		rows, err := db.Pool().Query(ctx, `SELECT id, xmin::text FROM session_keys`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for rows.Next() {
			var id, xmin string
			if err := rows.Scan(&id, &xmin); err != nil {
				t.Fatal(err)
			}
			out[id] = xmin
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := keys()
	if len(before) != 3 {
		t.Fatalf("session_keys has %d rows after 3 sign-ins, want 3", len(before))
	}
	if n, err := db.TerminateAll(ctx, org.ID, ids[0], store.Actor{UserID: u.ID}); err != nil || n != 2 {
		t.Fatalf("terminate all: %d %v", n, err)
	}
	after := keys()
	for id, xmin := range before {
		if after[id] != xmin {
			t.Errorf("terminate-all rewrote session_keys row %s (xmin %s → %s)", id, xmin, after[id])
		}
	}
	// A terminated session is still found by its token (the server tells
	// "ended" from "unknown"), through session_keys.
	if p, err := db.Authenticate(ctx, []byte{1}); err != nil || p.Session.TerminatedAt == nil {
		t.Errorf("authenticate a terminated session's token: %+v %v", p.Session, err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE sessions SET token_hash = '\x99' WHERE id = $1`, ids[0]); err == nil {
		t.Error("changing a session's token hash was accepted; session_keys would disagree")
	}
	now = now.Add(48 * time.Hour)
	if n, err := db.DeleteEndedSessions(ctx, now.Add(-time.Hour), 100); err != nil || n != 3 {
		t.Fatalf("delete ended sessions: %d %v", n, err)
	}
	if left := keys(); len(left) != 0 {
		t.Errorf("session_keys kept %d rows of deleted sessions", len(left))
	}
}
