package server_test

import (
	"context"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// A housekeeping pass deletes, in batches, the sessions that ended more than
// the retention ago and nothing else; the audit log and a client's delta
// sync within the retention are unaffected.
func TestHousekeepingPass(t *testing.T) {
	clock := newFakeClock()
	// The admin's session must outlive the ten days this test moves on.
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: 20 * 24 * time.Hour, AbsoluteTimeout: 20 * 24 * time.Hour})
	ctx := context.Background()
	var lr api.LoginResponse
	login(newClient(t, p, ""), api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}).decode(t, 200, &lr)
	admin := newClient(t, p, lr.Token)
	page, err := p.Store().ListSessions(ctx, orgID(t, p, "acme"), store.SessionFilter{ActiveOnly: true, Now: clock.Now(), Limit: 5})
	if err != nil || len(page.Items) < 5 {
		t.Fatalf("active sessions: %d %v", len(page.Items), err)
	}
	active := page.Items
	var ended []string
	for _, s := range active[:5] {
		if s.ID == lr.Session.ID {
			continue
		}
		admin.do("POST", api.BasePath+"/sessions/"+s.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
		ended = append(ended, s.ID)
	}
	auditBefore, err := p.Store().ListAudit(ctx, orgID(t, p, "acme"), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * 24 * time.Hour)
	// A client synced now, within the retention.
	feed := "/sessions?updated_since=" + clock.Now().Add(-time.Hour).Format(time.RFC3339Nano) + "&limit=1000"
	var synced api.SessionList
	admin.do("GET", api.BasePath+feed, nil).decode(t, 200, &synced)

	n, err := server.Housekeep(ctx, server.HousekeepingConfig{Store: p.Store(), Clock: clock.Now, Retention: 9 * 24 * time.Hour, Batch: 2})
	if err != nil || n < len(ended) {
		t.Fatalf("housekeeping deleted %d (%v), want at least the %d terminated 10 days ago", n, err, len(ended))
	}
	for _, id := range ended {
		if _, err := p.Store().GetSession(ctx, orgID(t, p, "acme"), id); !store.IsNotFound(err) {
			t.Errorf("session %s ended 10 days ago is still there: %v", id, err)
		}
	}
	auditAfter, _ := p.Store().ListAudit(ctx, orgID(t, p, "acme"), store.AuditFilter{Limit: 1000})
	if len(auditAfter.Items) != len(auditBefore.Items) {
		t.Errorf("audit events %d after housekeeping, %d before", len(auditAfter.Items), len(auditBefore.Items))
	}
	var after api.SessionList
	admin.do("GET", api.BasePath+feed, nil).decode(t, 200, &after)
	if len(after.Items) != len(synced.Items) || len(synced.Items) == 0 {
		t.Errorf("the feed since the client's last sync had %d sessions, now %d", len(synced.Items), len(after.Items))
	}
	// The retention keeps sessions that ended within it.
	if n, err := server.Housekeep(ctx, server.HousekeepingConfig{Store: p.Store(), Clock: clock.Now, Retention: 11 * 24 * time.Hour}); err != nil || n != 0 {
		t.Errorf("a second pass deleted %d (%v)", n, err)
	}
}
