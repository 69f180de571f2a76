package desk_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/internal/faultproxy/faultproxytest"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// After sign-out-everywhere, terminate-selected and terminate-all the list
// shows the ended sessions ended before any sync has brought them (at a
// million sessions that sync takes minutes; here the platform's lists are
// held busy so that none can), and the sync that finally does leaves the
// platform's rows in place of the marks.
func TestBulkEndsShowEndedBeforeTheSync(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	// The event stream stays away the whole test (it would bring the
	// ended rows itself); the lists only once the marks are to be seen.
	var holdLists atomic.Bool
	fp := faultproxytest.Start(t, p.URL(), faultproxy.Faults{
		Match: func(path string) bool {
			return path == api.BasePath+"/events" || holdLists.Load() && path == api.BasePath+"/sessions"
		},
		// No Retry-After worth waiting for: the sync after the hold must
		// not be told to wait.
		Status: http.StatusServiceUnavailable, StatusCount: 1 << 30,
	})
	e := newEnv(t)
	d := e.Open(t)
	st, err := d.SignIn(ctx, desk.SignInRequest{ServerURL: fp.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keychain.OS().DeleteProfile(st.Profile.ID) })
	member := []api.LoginResponse{p.Login(t, "acme", "member@acme.test"), p.Login(t, "acme", "member@acme.test")}
	auditor := []api.LoginResponse{p.Login(t, "acme", "auditor@acme.test"), p.Login(t, "acme", "auditor@acme.test")}
	syncNow(t, d)
	w := ws(t, d)
	status := func(id string) string {
		t.Helper()
		det, err := w.SessionDetails(id)
		if err != nil {
			t.Fatalf("details of %s: %v", id, err)
		}
		return det.Session.Status
	}
	activeOf := func(userID string) int {
		t.Helper()
		pg, err := w.ListSessions(desk.SessionQuery{Status: "active", UserID: userID, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return pg.Total
	}
	if activeOf(member[0].User.ID) < 2 || activeOf(auditor[0].User.ID) < 2 {
		t.Fatal("the new sign-ins are not in the list")
	}
	holdLists.Store(true)

	n, err := w.SignOutEverywhere(ctx, member[0].User.ID, true, "lost laptop")
	if err != nil || n < 2 {
		t.Fatalf("SignOutEverywhere: %d %v", n, err)
	}
	if got := activeOf(member[0].User.ID); got != 0 {
		t.Fatalf("after sign-out-everywhere %d of the person's sessions still read active", got)
	}

	res, err := w.TerminateSelected(ctx, []string{auditor[0].Session.ID, "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, "sweep", nil)
	if err != nil || res.Terminated != 1 {
		t.Fatalf("TerminateSelected: %+v %v", res, err)
	}
	if status(auditor[0].Session.ID) != domain.StatusTerminated || status(auditor[1].Session.ID) != domain.StatusActive {
		t.Fatalf("after terminate-selected: the chosen one %s, the other %s", status(auditor[0].Session.ID), status(auditor[1].Session.ID))
	}
	if det, _ := w.SessionDetails(auditor[0].Session.ID); det.Session.TerminatedBy == nil || det.Session.TerminatedBy.Email != "admin@acme.test" || det.Session.TerminatedAt == nil {
		t.Fatalf("the mark does not say who ended it, or when: %+v", det.Session)
	}

	if _, err := w.TerminateAll(ctx, true, "incident", nil); err != nil {
		t.Fatal(err)
	}
	all, err := w.ListSessions(desk.SessionQuery{Status: "active", Limit: 10})
	if err != nil || all.Total != 1 || !all.Items[0].Current {
		t.Fatalf("after terminate-all: %d active (%v), want only the own one", all.Total, err)
	}
	if !w.SyncStatus().Online {
		t.Fatal("a busy platform was taken for offline")
	}

	// The platform's lists again: the sync brings its rows, which replace
	// the marks (the same status, and the platform's times).
	holdLists.Store(false)
	syncNow(t, d)
	truth := platformSessions(t, p, "admin@acme.test")
	marked := 0
	err = w.EachSession(desk.SessionQuery{Status: "all"}, func(s domain.Session) error {
		want, ok := truth[s.ID]
		if !ok {
			return nil
		}
		if s.Status != want.Status || !s.UpdatedAt.Equal(want.UpdatedAt) || (want.TerminatedAt == nil) != (s.TerminatedAt == nil) ||
			want.TerminatedAt != nil && !s.TerminatedAt.Equal(*want.TerminatedAt) {
			t.Errorf("%s after the sync: %s %v %v, the platform's %s %v %v", s.ID, s.Status, s.UpdatedAt, s.TerminatedAt, want.Status, want.UpdatedAt, want.TerminatedAt)
		}
		if s.Status == domain.StatusTerminated {
			marked++
		}
		return nil
	})
	if err != nil || marked == 0 {
		t.Fatalf("walking the list: %v (%d ended)", err, marked)
	}
}

// platformSessions is every session of acme as the platform holds it now,
// read by email's own token.
func platformSessions(t *testing.T, p *platformtest.Platform, email string) map[string]api.Session {
	t.Helper()
	c := platformClient(t, p).WithToken(p.Login(t, "acme", email).Token)
	out := map[string]api.Session{}
	params := platformd.ListParams{Status: "all", Limit: 1000}
	for {
		page, err := c.ListSessions(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			out[s.ID] = s
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out
		}
		params.Cursor = *page.NextCursor
	}
}
