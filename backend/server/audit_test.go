package server_test

import (
	"log/slog"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/internal/testutil"
)

func TestAuditAndNoSecretsInLogs(t *testing.T) {
	var logs testutil.SyncBuffer
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	admin, adminLogin := signedIn(t, p, "acme", "admin@acme.test")
	memberLogin := p.Login(t, "acme", "member@acme.test")
	code := platformtest.MFACode(t, clock.Now())
	anon := newClient(t, p, "")
	var mfa api.LoginResponse
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code, TrustDevice: true}).decode(t, 200, &mfa)
	if mfa.DeviceSecret == "" {
		t.Fatal("trusting login returned no device secret")
	}
	// The device secret travels in a request too (and skips the code).
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password,
		Device: api.LoginDevice{ID: mfa.Device.ID, Secret: mfa.DeviceSecret}}).decode(t, 200, nil)
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: "wrong-password-123"})
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: "999999x"})
	newClient(t, p, "bogus-token-value-xyz").do("GET", api.BasePath+"/me", nil)

	admin.do("POST", api.BasePath+"/sessions/"+memberLogin.Session.ID+"/terminate", map[string]string{"reason": "left the company"}).decode(t, 200, nil)
	admin.do("POST", api.BasePath+"/devices/"+mfa.Device.ID+"/untrust", map[string]string{"reason": "phone lost"}).decode(t, 200, nil)
	var n api.TerminateAllResponse
	admin.do("POST", api.BasePath+"/sessions/terminate-all", map[string]string{"reason": "incident"}).decode(t, 200, &n)
	// No-ops are not audited: the session is already terminated, the device untrusted.
	admin.do("POST", api.BasePath+"/sessions/"+memberLogin.Session.ID+"/terminate", nil).decode(t, 200, nil)
	admin.do("POST", api.BasePath+"/devices/"+mfa.Device.ID+"/untrust", nil).decode(t, 200, nil)

	var audit api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=2", nil).decode(t, 200, &audit)
	if len(audit.Items) != 2 || audit.NextCursor == nil {
		t.Fatalf("audit page 1 = %+v", audit)
	}
	var rest api.AuditList
	admin.do("GET", api.BasePath+"/audit?limit=2&cursor="+*audit.NextCursor, nil).decode(t, 200, &rest)
	events := append(audit.Items, rest.Items...)
	if len(events) != 3 || rest.NextCursor != nil {
		t.Fatalf("audit = %+v", events)
	}
	want := []struct {
		action, target, reason string
		count                  int
	}{
		{api.ActionSessionsTerminateAll, "", "incident", n.Terminated},
		{api.ActionDeviceUntrust, mfa.Device.ID, "phone lost", 1},
		{api.ActionSessionTerminate, memberLogin.Session.ID, "left the company", 1},
	}
	for i, w := range want {
		e := events[i]
		target := ""
		if e.TargetID != nil {
			target = *e.TargetID
		}
		if e.Action != w.action || target != w.target || e.Reason != w.reason || e.Count != w.count || e.Actor.Email != "admin@acme.test" {
			t.Errorf("audit[%d] = %+v, want %+v", i, e, w)
		}
		if i > 0 && e.At.After(events[i-1].At) {
			t.Errorf("audit not newest first")
		}
	}

	out := logs.String()
	if !strings.Contains(out, "session terminated") {
		t.Fatalf("logs were not captured:\n%s", out)
	}
	for name, secret := range map[string]string{
		"admin token": adminLogin.Token, "member token": memberLogin.Token, "mfa token": mfa.Token,
		"bogus token": "bogus-token-value-xyz", "password": platformtest.Password, "wrong password": "wrong-password-123",
		"totp secret": platformtest.MFASecret, "totp code": "=" + code, "quoted totp code": `"` + code + `"`, "bad code": "999999x",
		"device secret": mfa.DeviceSecret,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
	for _, e := range events {
		for _, secret := range []string{adminLogin.Token, platformtest.Password, platformtest.MFASecret, mfa.DeviceSecret} {
			if strings.Contains(e.Reason, secret) || (e.TargetID != nil && strings.Contains(*e.TargetID, secret)) {
				t.Errorf("audit event %+v holds a secret", e)
			}
		}
	}
}
