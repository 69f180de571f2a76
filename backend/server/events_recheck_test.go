package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
)

// TestEventsEndWhenTheCallerLosesTheViewPermission takes the view
// permission away from an auditor whose event stream is open (the role is
// changed in the database, as an operator would: no command changes roles)
// and expects the stream to end as the next request is refused. The stream
// had checked the permission only when it opened, so a demoted auditor
// went on receiving every session, device and audit change of the
// organization until the session itself ended (up to the 7-day absolute
// timeout) while every list route already answered 403.
func TestEventsEndWhenTheCallerLosesTheViewPermission(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Replicas: 2,
		Events: platformtest.EventsConfig{PingInterval: 200 * time.Millisecond}})
	pg, ok := p.Store().(*postgres.DB)
	if !ok {
		t.Fatalf("store is %T, want PostgreSQL", p.Store())
	}
	auditor := p.Login(t, "acme", "auditor@acme.test")
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)

	s := openEvents(t, p, auditor.Token, "")
	s.next(2 * time.Second) // the id-only block: the stream is live
	// Still a viewer: a change arrives.
	victim := p.Login(t, "acme", "member@acme.test")
	admin.do("POST", api.BasePath+"/sessions/"+victim.Session.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
	s.until(2*time.Second, func(e sseEvent) bool {
		return strings.Contains(e.Data, victim.Session.ID) && strings.Contains(e.Data, `"terminated"`)
	})

	if _, err := pg.Pool().Exec(ctx, `UPDATE users SET role = $1 WHERE id = $2`, store.RoleMember, auditor.User.ID); err != nil {
		t.Fatal(err)
	}
	demoted := time.Now()
	newClient(t, p, auditor.Token).do("GET", api.BasePath+"/sessions", nil).decode(t, 403, nil)
	if !s.ended(2 * time.Second) {
		// Show what a demoted member still gets.
		other := p.Login(t, "acme", "member@acme.test")
		admin.do("POST", api.BasePath+"/sessions/"+other.Session.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
		got := s.until(2*time.Second, func(e sseEvent) bool { return strings.Contains(e.Data, other.Session.ID) })
		t.Fatalf("stream still open %v after the caller lost %s; it went on with %+v",
			time.Since(demoted).Round(time.Millisecond), api.PermSessionsView, got[len(got)-1])
	}
	t.Logf("stream ended %v after the role change", time.Since(demoted).Round(time.Millisecond))
	_, res := tryEvents(t, p.URL(), auditor.Token, "", nil, false)
	if res.StatusCode != 403 {
		t.Fatalf("reopening as a member: %d, want 403", res.StatusCode)
	}
}
