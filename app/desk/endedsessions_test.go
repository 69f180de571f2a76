package desk_test

import (
	"context"
	"slices"
	"testing"

	"sessiondesk/app/cache"
	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// The audit log's detail of a bulk action lists the sessions it ended (the
// event's target_ids, v1.2): each with its client, IP and person from the
// cache while that session is cached, else just its id, also offline
// after a restart (target_ids live in the sealed cache). The platform's
// target_ids are written into the cache here as a sync would store them,
// so the test does not depend on which platform version fills them.
func TestEndedSessionsOfABulkEventFromTheCacheOffline(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	st := signIn(t, d, p, "admin@acme.test")
	victims := []api.LoginResponse{p.Login(t, "acme", "member@acme.test"), p.Login(t, "acme", "auditor@acme.test")}
	syncNow(t, d)
	ids := []string{victims[0].Session.ID, victims[1].Session.ID}
	if res, err := ws(t, d).TerminateSelected(ctx, ids, "sweep", nil); err != nil || res.Terminated != 2 {
		t.Fatalf("TerminateSelected: %+v %v", res, err)
	}
	syncNow(t, d)
	events, err := collect(ws(t, d).EachAudit, desk.AuditQuery{Action: domain.ActionSessionsTerminateSelected})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit events of the sweep: %d %v", len(events), err)
	}
	ev := events[0]
	d.Close()

	// The event as a v1.2 platform sends it, stored by the cache's own code
	// under the key in the keychain; one id was never cached.
	ev.TargetIDs = append(slices.Clone(ids), "ses_never_cached")
	key, created, err := keychain.OS().CacheKey(st.Profile.ID)
	if err != nil || created {
		t.Fatalf("cache key: created %v, %v", created, err)
	}
	store, _, err := cache.Open(ctx, cache.Options{Dir: e.Config.CacheDir, Profile: st.Profile.ID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Apply(ctx, cache.Snapshot{Audit: []domain.AuditEvent{ev}}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// A restart with the platform gone: offline, from the cache.
	p.Stop()
	d = e.Open(t)
	if got := d.State(); !got.SignedIn {
		t.Fatalf("not resumed offline: %+v", got)
	}
	ended, err := ws(t, d).EndedSessions(ev.ID)
	if err != nil || len(ended) != 3 {
		t.Fatalf("EndedSessions: %+v %v", ended, err)
	}
	for i, v := range victims {
		got := ended[i]
		if got.ID != v.Session.ID || !got.Known || got.Client != v.Session.Client || got.IP != v.Session.IP ||
			got.User == nil || got.User.Email != v.User.Email {
			t.Errorf("ended[%d] = %+v, want %s of %s (%s, %s)", i, got, v.Session.ID, v.User.Email, v.Session.Client, v.Session.IP)
		}
	}
	if last := ended[2]; last.ID != "ses_never_cached" || last.Known || last.User != nil || last.Client != "" {
		t.Errorf("an id the cache does not hold: %+v, want the id alone", last)
	}
	// The session's own details name the event that ended it.
	det, err := ws(t, d).SessionDetails(ids[1])
	if err != nil || det.Ended == nil || det.Ended.ID != ev.ID {
		t.Errorf("details of an ended session: %+v %v", det.Ended, err)
	}
	if _, err := ws(t, d).EndedSessions("aud_unknown"); codeOf(err) != domain.KindNotFound {
		t.Errorf("an unknown event: %v", err)
	}
}
