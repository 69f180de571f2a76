package storetest

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

func testOrgsAndUsers(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	if empty, err := s.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("new store: empty %v %v", empty, err)
	}
	org, err := s.CreateOrg(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if empty, _ := s.IsEmpty(ctx); empty {
		t.Error("store with an org reports empty")
	}
	if _, err := s.CreateOrg(ctx, "acme", "Again"); store.ErrorCode(err) != store.EConflict {
		t.Errorf("duplicate slug: %v", err)
	}
	for _, get := range []func() (store.Org, error){
		func() (store.Org, error) { return s.OrgBySlug(ctx, "acme") },
		func() (store.Org, error) { return s.OrgByID(ctx, org.ID) },
	} {
		if o, err := get(); err != nil || o.ID != org.ID || o.Name != "Acme" || !o.CreatedAt.Equal(org.CreatedAt) {
			t.Errorf("org = %+v %v, want %+v", o, err, org)
		}
	}
	if _, err := s.OrgBySlug(ctx, "nope"); !store.IsNotFound(err) {
		t.Errorf("missing org: %v", err)
	}
	u, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "  Ann@Acme.TEST ", Name: "Ann", Role: store.RoleAuditor, PasswordHash: []byte("h")})
	if err != nil || u.Email != "ann@acme.test" {
		t.Fatalf("create user = %+v %v", u, err)
	}
	if _, err := s.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "ANN@acme.test", Name: "A2", Role: store.RoleMember, PasswordHash: []byte("h")}); store.ErrorCode(err) != store.EConflict {
		t.Errorf("duplicate e-mail: %v", err)
	}
	got, err := s.UserByEmail(ctx, org.ID, "ann@ACME.test")
	if err != nil || got.ID != u.ID || string(got.PasswordHash) != "h" || got.Role != store.RoleAuditor {
		t.Errorf("user by email = %+v %v", got, err)
	}
	other, _ := s.CreateOrg(ctx, "other", "Other")
	if _, err := s.UserByEmail(ctx, other.ID, "ann@acme.test"); !store.IsNotFound(err) {
		t.Errorf("user of another org: %v", err)
	}
	mkUser(t, s, org.ID, "bob@acme.test", store.RoleMember)
	users, err := s.ListUsers(ctx, org.ID)
	if err != nil || len(users) != 2 || users[0].Email != "ann@acme.test" || users[1].Email != "bob@acme.test" {
		t.Errorf("list users = %+v %v", users, err)
	}
}

func testSignInAndAuthenticate(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	f := arrange(t, s, "acme", 1)
	u := f.users[0]
	secret := sha256.Sum256([]byte("device secret"))
	tok := []byte(store.NewID("tok"))
	ses, dev := signIn(t, s, u.ID, func(in *store.SignIn) {
		in.TokenHash, in.TrustDevice, in.TrustSecretHash, in.MFA = tok, true, secret[:], true
	})
	if ses.DeviceID != dev.ID || !ses.MFA || ses.User.Email != u.Email || !dev.Trusted() || ses.Client != "Firefox 133 on Linux" {
		t.Errorf("sign in = %+v / %+v", ses, dev)
	}
	if !ses.ExpiresAt.Equal(ses.CreatedAt.Add(time.Hour)) || !ses.AbsoluteExpiresAt.Equal(ses.CreatedAt.Add(2*time.Hour)) {
		t.Errorf("expiry %v / %v after %v", ses.ExpiresAt, ses.AbsoluteExpiresAt, ses.CreatedAt)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || p.Session.ID != ses.ID || p.User.Role != store.RoleMember || p.Org.Slug != "acme" {
		t.Errorf("authenticate = %+v %v", p, err)
	}
	if _, err := s.Authenticate(ctx, []byte("unknown")); !store.IsNotFound(err) {
		t.Errorf("unknown token: %v", err)
	}
	got, err := s.DeviceOfUser(ctx, u.ID, dev.ID)
	if err != nil || !bytes.Equal(got.TrustSecretHash, secret[:]) {
		t.Errorf("device of user = %+v %v", got, err)
	}
	if _, err := s.DeviceOfUser(ctx, f.admin.ID, dev.ID); !store.IsNotFound(err) {
		t.Errorf("another user's device: %v", err)
	}
	// Signing in again from the known device refreshes it; another user's
	// device ID gets a new device.
	ses2, dev2 := signIn(t, s, u.ID, func(in *store.SignIn) { in.DeviceID, in.IP = dev.ID, "198.51.100.9" })
	// A session's ID begins with its creation time (store.NewSessionID), so
	// sessions begun later sort after.
	for _, x := range []store.Session{ses, ses2} {
		if want := store.NewSessionID(x.CreatedAt); x.ID[:13] != want[:13] {
			t.Errorf("session %s begun at %v: want an ID starting %s", x.ID, x.CreatedAt, want[:13])
		}
	}
	if dev2.ID != dev.ID || dev2.LastIP != "198.51.100.9" || !dev2.UpdatedAt.After(dev.UpdatedAt) || ses2.DeviceID != dev.ID {
		t.Errorf("refreshed device = %+v", dev2)
	}
	_, dev3 := signIn(t, s, f.admin.ID, func(in *store.SignIn) { in.DeviceID = dev.ID })
	if dev3.ID == dev.ID {
		t.Error("another user's device ID was reused")
	}
	if err := s.Logout(ctx, ses.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.Authenticate(ctx, tok); p.Session.TerminatedAt == nil {
		t.Errorf("after logout: %+v", p.Session)
	}
	got2, _ := s.GetSession(ctx, f.org.ID, ses.ID)
	if got2.TerminatedBy == nil || got2.TerminatedBy.ID != u.ID {
		t.Errorf("after logout: terminated by %+v, want the user", got2.TerminatedBy)
	}
	// Authenticate reads the session as GetSession does, terminated_by
	// included (a copy of the row scan once dropped it).
	authed := p.Session
	authed.User.Role = ""
	if !reflect.DeepEqual(authed, got2) {
		t.Errorf("Authenticate's session\n %+v\nGetSession's\n %+v", authed, got2)
	}
}

func testOrgConfinement(t *testing.T, open Opener) {
	s, _ := open(t, nil)
	a, b := arrange(t, s, "a", 1), arrange(t, s, "b", 1)
	ses, dev := signIn(t, s, a.users[0].ID, func(in *store.SignIn) { in.TrustDevice = true })
	by := store.Actor{UserID: b.admin.ID}
	if _, err := s.GetSession(ctx, b.org.ID, ses.ID); !store.IsNotFound(err) {
		t.Errorf("get session of another org: %v", err)
	}
	if _, err := s.TerminateSession(ctx, b.org.ID, ses.ID, by); !store.IsNotFound(err) {
		t.Errorf("terminate session of another org: %v", err)
	}
	if _, err := s.GetDevice(ctx, b.org.ID, dev.ID); !store.IsNotFound(err) {
		t.Errorf("get device of another org: %v", err)
	}
	if _, err := s.UntrustDevice(ctx, b.org.ID, dev.ID, by); !store.IsNotFound(err) {
		t.Errorf("untrust device of another org: %v", err)
	}
	if n, err := s.TerminateAll(ctx, b.org.ID, "", by); err != nil || n != 0 {
		t.Errorf("terminate all of b = %d %v", n, err)
	}
	if got := allSessions(t, s, b.org.ID, store.SessionFilter{}); len(got) != 0 {
		t.Errorf("b lists %d sessions of a", len(got))
	}
	if got, _ := s.GetSession(ctx, a.org.ID, ses.ID); got.TerminatedAt != nil {
		t.Error("a's session was ended through b")
	}
	if got, _ := s.GetDevice(ctx, a.org.ID, dev.ID); !got.Trusted() {
		t.Error("a's device was untrusted through b")
	}
}

// A password reset or TOTP re-enrolment ends the user's active sessions,
// untrusts the user's devices (forgetting their secrets) and audits it, all
// in one transaction; other users are untouched.
func testResetCredentialRevokes(t *testing.T, open Opener) {
	for _, tc := range []struct {
		action string
		reset  func(s store.Store, userID string, by store.Actor) (store.Revocation, error)
	}{
		{store.ActionUserPasswordReset, func(s store.Store, id string, by store.Actor) (store.Revocation, error) {
			return s.SetPassword(ctx, id, []byte("new-hash"), by)
		}},
		{store.ActionUserTOTPReset, func(s store.Store, id string, by store.Actor) (store.Revocation, error) {
			return s.SetTOTPSecret(ctx, id, "JBSWY3DPEHPK3PXP", by)
		}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			s, _ := open(t, nil)
			org, err := s.CreateOrg(ctx, "o", "O")
			if err != nil {
				t.Fatal(err)
			}
			u, other := mkUser(t, s, org.ID, "u@o.test", store.RoleMember), mkUser(t, s, org.ID, "other@o.test", store.RoleMember)
			secret := sha256.Sum256([]byte("device secret"))
			trust := func(in *store.SignIn) { in.TrustDevice, in.TrustSecretHash = true, secret[:] }
			s1, d1 := signIn(t, s, u.ID, trust)
			s2, _ := signIn(t, s, u.ID, nil)
			otherSess, od := signIn(t, s, other.ID, trust)
			if got, _ := s.DeviceOfUser(ctx, u.ID, d1.ID); !got.Trusted() || !bytes.Equal(got.TrustSecretHash, secret[:]) {
				t.Fatalf("trusted device before reset: %+v", got)
			}

			rv, err := tc.reset(s, u.ID, store.Actor{Reason: "cli"})
			if err != nil {
				t.Fatal(err)
			}
			if rv != (store.Revocation{Sessions: 2, Devices: 1}) {
				t.Errorf("revocation = %+v, want 2 sessions, 1 device", rv)
			}
			for _, id := range []string{s1.ID, s2.ID} {
				got, err := s.GetSession(ctx, org.ID, id)
				if err != nil || got.TerminatedAt == nil || got.TerminatedBy != nil {
					t.Errorf("session %s after reset: terminated %v by %v (%v)", id, got.TerminatedAt, got.TerminatedBy, err)
				}
			}
			if got, _ := s.DeviceOfUser(ctx, u.ID, d1.ID); got.Trusted() || got.TrustSecretHash != nil {
				t.Errorf("device after reset: trusted %v secret hash %x", got.Trusted(), got.TrustSecretHash)
			}
			if got, _ := s.GetSession(ctx, org.ID, otherSess.ID); got.TerminatedAt != nil {
				t.Errorf("another user's session was ended")
			}
			if got, _ := s.DeviceOfUser(ctx, other.ID, od.ID); !got.Trusted() {
				t.Errorf("another user's device was untrusted")
			}
			page, err := s.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 10})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("audit = %+v %v", page.Items, err)
			}
			e := page.Items[0]
			if e.Action != tc.action || e.TargetID != u.ID || e.Count != 2 || e.Reason != "cli" ||
				e.Actor.ID != store.SystemActorID || e.Actor.Name == "" || e.Actor.Email != "" {
				t.Errorf("audit event = %+v", e)
			}
			if _, err := tc.reset(s, store.NewID(store.PrefixUser), store.Actor{}); store.ErrorCode(err) != store.ENotFound {
				t.Errorf("unknown user: %v", err)
			}
		})
	}
}

func testUseTOTPStepOnce(t *testing.T, open Opener) {
	s, another := open(t, nil)
	s2 := another()
	f := arrange(t, s, "acme", 1)
	// Two handles race for the same step: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, h := range []store.Store{s, s2, s, s2} {
		wg.Go(func() {
			ok, err := h.UseTOTPStep(ctx, f.users[0].ID, 100)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("step 100 accepted %d times", wins.Load())
	}
	if ok, _ := s.UseTOTPStep(ctx, f.users[0].ID, 99); ok {
		t.Error("an earlier step was accepted after a later one")
	}
	if ok, _ := s.UseTOTPStep(ctx, f.users[0].ID, 101); !ok {
		t.Error("the next step was refused")
	}
}
