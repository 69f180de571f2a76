package desk_test

import (
	"context"
	"strings"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/backend/platformtest"
)

// The v1.2 permission model, mirrored in Go (the platform enforces it):
// a view-only role (the auditor) is refused every bulk termination and
// "Revoke trust" before any request leaves the app, with a
// permission_denied error naming the permission; it may still end one
// session and sign itself out of its other devices.
func TestViewOnlyRoleIsRefusedBulkActionsBeforeThePlatformIsAsked(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	f := newFront(t, p)
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	admin := p.Login(t, "acme", "admin@acme.test") // someone else's session
	st, err := d.SignIn(ctx, desk.SignInRequest{ServerURL: f.srv.URL, Org: "acme", Email: "auditor@acme.test", Password: platformtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keychain.OS().DeleteProfile(st.Profile.ID) })
	syncNow(t, d)
	f.takeWrites()

	refused := []struct {
		what, perm string
		do         func() error
	}{
		{"Terminate selected", domain.PermSessionsTerminateOrg, func() error {
			_, err := ws(t, d).TerminateSelected(ctx, []string{admin.Session.ID}, "", nil)
			return err
		}},
		{"Terminate the N matching", domain.PermSessionsTerminateOrg, func() error {
			_, err := ws(t, d).TerminateMatching(ctx, desk.SessionQuery{Status: "all"}, nil, "", nil)
			return err
		}},
		{"Sign out everywhere for another person", domain.PermSessionsTerminateOrg, func() error {
			_, err := ws(t, d).SignOutEverywhere(ctx, admin.User.ID, true, "")
			return err
		}},
		{"Terminate all sessions", domain.PermSessionsTerminateOrg, func() error {
			_, err := ws(t, d).TerminateAll(ctx, true, "", nil)
			return err
		}},
		{"Revoke trust", domain.PermDevicesRevokeTrust, func() error {
			_, err := ws(t, d).RevokeTrust(ctx, admin.Device.ID, "")
			return err
		}},
	}
	for _, r := range refused {
		err := r.do()
		ue := desk.UserError(err)
		if ue == nil || ue.Code != domain.KindPermissionDenied || !strings.Contains(ue.Message, r.perm) {
			t.Errorf("%s as the auditor: %v, want permission_denied naming %s", r.what, err, r.perm)
		}
		if w := f.takeWrites(); len(w) > 0 {
			t.Errorf("%s as the auditor reached the platform: %v", r.what, w)
		}
	}
	c := platformClient(t, p)
	if _, err := c.WithToken(admin.Token).Me(ctx); err != nil {
		t.Fatalf("the admin's session did not survive the auditor: %v", err)
	}

	// What view allows: signing oneself out of one's other devices…
	other := p.Login(t, "acme", "auditor@acme.test")
	n, err := ws(t, d).SignOutEverywhere(ctx, st.Me.User.ID, true, "")
	if err != nil || n < 1 {
		t.Fatalf("the auditor signing themselves out elsewhere: %d, %v", n, err)
	}
	if _, err := c.WithToken(other.Token).Me(ctx); !domain.IsUnauthenticated(err) {
		t.Errorf("the auditor's other session after Sign out everywhere: %v", err)
	}
	if !d.State().SignedIn {
		t.Fatal("keeping the current session signed the auditor out")
	}
	// …and ending one session.
	if _, err := ws(t, d).Terminate(ctx, admin.Session.ID, "one"); err != nil {
		t.Fatalf("the auditor ending one session: %v", err)
	}
	if _, err := c.WithToken(admin.Token).Me(ctx); !domain.IsUnauthenticated(err) {
		t.Errorf("the terminated session still works: %v", err)
	}
}
