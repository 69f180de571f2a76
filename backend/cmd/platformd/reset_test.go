package main

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

// user passwd and user totp end the user's sessions and revoke the trust of
// the user's devices, audited with the command line's "system" actor.
func TestCLIResetRevokes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reset.db")
	if code, _, errOut := runCmd(t, "", "org", "create", "--db", path, "--slug", "initech", "--name", "Initech"); code != 0 {
		t.Fatalf("org create: %s", errOut)
	}
	if code, _, errOut := runCmd(t, "first-password\n", "user", "add", "--db", path, "--org", "initech", "--email", "bill@initech.test",
		"--name", "Bill", "--role", "member", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	// signIn opens the database, signs Bill in on a newly trusted device and
	// returns the org, user, session and device IDs.
	signIn := func() (orgID, userID, sessionID, deviceID string) {
		db, err := openDB(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u, err := findUser(ctx, db, "initech", "bill@initech.test")
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte("secret"))
		s, d, err := db.SignIn(ctx, store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")), DeviceName: "d", DevicePlatform: "p",
			TrustDevice: true, TrustSecretHash: h[:], IP: "192.0.2.1", Idle: time.Hour, Absolute: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return u.OrgID, u.ID, s.ID, d.ID
	}
	check := func(cmd, action, orgID, userID, sessionID, deviceID string) {
		t.Helper()
		db, err := openDB(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if s, err := db.GetSession(ctx, orgID, sessionID); err != nil || s.TerminatedAt == nil {
			t.Errorf("%s: session not ended (%v)", cmd, err)
		}
		if d, err := db.DeviceOfUser(ctx, userID, deviceID); err != nil || d.Trusted() || d.TrustSecretHash != nil {
			t.Errorf("%s: device still trusted: %+v %v", cmd, d, err)
		}
		page, err := db.ListAudit(ctx, orgID, store.AuditFilter{Limit: 1})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%s: audit %+v %v", cmd, page.Items, err)
		}
		if e := page.Items[0]; e.Action != action || e.TargetID != userID || e.Count != 1 || e.Actor.ID != store.SystemActorID || e.Reason == "" {
			t.Errorf("%s: audit event %+v", cmd, e)
		}
	}

	orgID, userID, sessionID, deviceID := signIn()
	code, out, errOut := runCmd(t, "second-password\n", "user", "passwd", "--db", path, "--org", "initech", "--email", "bill@initech.test", "--password-stdin")
	if code != 0 || !strings.Contains(out, "ended 1 session(s), revoked the trust of 1 device(s)") {
		t.Fatalf("user passwd: %d %s %s", code, out, errOut)
	}
	check("user passwd", store.ActionUserPasswordReset, orgID, userID, sessionID, deviceID)

	_, _, sessionID, deviceID = signIn()
	code, out, errOut = runCmd(t, "", "user", "totp", "--db", path, "--org", "initech", "--email", "bill@initech.test")
	if code != 0 || !strings.Contains(out, "ended 1 session(s), revoked the trust of 1 device(s)") || !strings.Contains(out, "otpauth://") {
		t.Fatalf("user totp: %d %s %s", code, out, errOut)
	}
	check("user totp", store.ActionUserTOTPReset, orgID, userID, sessionID, deviceID)
}
