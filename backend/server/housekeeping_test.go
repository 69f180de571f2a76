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

	swept, err := server.Housekeep(ctx, server.HousekeepingConfig{Store: p.Store(), Clock: clock.Now, Retention: 9 * 24 * time.Hour, Batch: 2})
	if n := swept.Sessions; err != nil || n < len(ended) {
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
	if swept, err := server.Housekeep(ctx, server.HousekeepingConfig{Store: p.Store(), Clock: clock.Now, Retention: 11 * 24 * time.Hour}); err != nil || swept.Sessions != 0 {
		t.Errorf("a second pass deleted %d (%v)", swept.Sessions, err)
	}
}

// Issue 18, finding 4b: a member could add devices without limit (a
// sign-in without device.id always adds one) and nothing deleted them. A
// housekeeping pass now deletes untrusted devices unseen for the retention
// once no session refers to them; a trusted device, the device of an
// active session and a device seen within the retention stay, and a
// sign-in that names a deleted device gets a new one.
func TestHousekeepingDeletesStaleDevices(t *testing.T) {
	clock := newFakeClock()
	const day = 24 * time.Hour
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: 200 * day, AbsoluteTimeout: 200 * day})
	ctx := context.Background()
	anon := newClient(t, p, "")
	signIn := func(email, deviceID string) api.LoginResponse {
		t.Helper()
		var lr api.LoginResponse
		login(anon, api.LoginRequest{Org: "acme", Email: email, Password: platformtest.Password,
			Device: api.LoginDevice{ID: deviceID, Name: "laptop", Platform: "Linux"}}).decode(t, 200, &lr)
		return lr
	}
	admin := signIn("admin@acme.test", "") // its session stays active: its device stays
	gone := signIn("member@acme.test", "")
	newClient(t, p, gone.Token).do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
	kept := signIn("member@acme.test", "")
	newClient(t, p, kept.Token).do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
	trusted := trustedDevice(t, p, "acme")
	clock.Advance(60 * day)
	seen := signIn("member@acme.test", kept.Device.ID) // seen again
	newClient(t, p, seen.Token).do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
	clock.Advance(31 * day)

	swept, err := server.Housekeep(ctx, server.HousekeepingConfig{Store: p.Store(), Clock: clock.Now, Batch: 3})
	if err != nil || swept.Devices == 0 {
		t.Fatalf("housekeeping: %+v %v", swept, err)
	}
	t.Logf("one pass at the defaults deleted %+v of the demo organizations", swept)
	devices := map[string]bool{}
	for _, d := range newClient(t, p, admin.Token).allDevices("", 1000) {
		devices[d.ID] = true
	}
	if devices[gone.Device.ID] {
		t.Error("an untrusted device unseen for 91 days, its session ended, was kept")
	}
	for name, id := range map[string]string{"the active session's": admin.Device.ID, "the one seen 31 days ago": kept.Device.ID, "the trusted": trusted.ID} {
		if !devices[id] {
			t.Errorf("%s device was deleted", name)
		}
	}
	if again := signIn("member@acme.test", gone.Device.ID); again.Device.ID == gone.Device.ID {
		t.Error("a sign-in named the deleted device and got it back")
	}
}
