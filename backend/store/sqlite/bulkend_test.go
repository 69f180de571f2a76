package sqlite

import (
	"context"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/backend/store/storetest"
)

// The store-level cases of the v1.1 bulk ends and audit targets are in
// backend/store/storetest (testBulkEnds, testAuditTargetsAndFilters) and
// run on every store; this file keeps the SQLite-specific one.

// When the audit event cannot be written, the bulk ends change nothing: the
// event and the change are one transaction. (SQLite-specific: a trigger makes
// the audit insert fail.)
func TestBulkEndsRollBackWithoutTheirAuditEvent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := storetest.ArrangeBulkFixture(t, db)
	a1, _ := storetest.SignInAs(t, db, f.Alice, "Firefox", "192.0.2.1", time.Hour)
	b1, _ := storetest.SignInAs(t, db, f.Bob, "Chrome", "192.0.2.2", time.Hour)
	if _, err := db.wdb.ExecContext(ctx, `CREATE TRIGGER no_audit BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, "", store.Actor{UserID: f.Bob.ID}); err == nil {
		t.Fatal("sign-out everywhere succeeded without its audit event")
	}
	if _, err := db.TerminateSessions(ctx, f.A.ID, []string{a1.ID, b1.ID}, store.Actor{UserID: f.Bob.ID}); err == nil {
		t.Fatal("terminate selected succeeded without its audit event")
	}
	for _, id := range []string{a1.ID, b1.ID} {
		if got, _ := db.GetSession(ctx, f.A.ID, id); got.TerminatedAt != nil || !got.UpdatedAt.Equal(map[string]time.Time{a1.ID: a1.UpdatedAt, b1.ID: b1.UpdatedAt}[id]) {
			t.Errorf("session %s changed although its audit event failed: %+v", got.Client, got)
		}
	}
}

// The live change feed carries the bulk ends: every ended session and the
// audit event, which names its target like the audit list does.
func TestBulkEndsReachTheChangeFeed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := storetest.ArrangeBulkFixture(t, db)
	a1, _ := storetest.SignInAs(t, db, f.Alice, "Firefox", "192.0.2.1", time.Hour)
	a2, _ := storetest.SignInAs(t, db, f.Alice, "Chrome", "192.0.2.2", time.Hour)
	before, err := db.Changes(ctx, f.A.ID, store.ChangePos{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	after := before[len(before)-1].Pos
	if _, err := db.TerminateUserSessions(ctx, f.A.ID, f.Alice.ID, "", store.Actor{UserID: f.Bob.ID, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	changes, err := db.Changes(ctx, f.A.ID, after, 1000)
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
