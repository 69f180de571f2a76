package server_test

import (
	"strconv"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/totp"
	"sessiondesk/internal/testutil"
)

func login(c *client, req api.LoginRequest) response {
	c.t.Helper()
	return c.do("POST", api.BasePath+"/auth/login", req)
}

// startMFA starts a platform on a hand clock for the sign-ins of the
// TOTP-enrolled mfa@acme.test: a client without a token, the current code,
// and the sign-in request from a named device without a code.
func startMFA(t *testing.T) (*testutil.Clock, *platformtest.Platform, *client, func() string, api.LoginRequest) {
	t.Helper()
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now})
	code := func() string { return platformtest.MFACode(t, clock.Now()) }
	base := api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password,
		Device: api.LoginDevice{Name: "Work laptop", Platform: "Linux"}}
	return clock, p, newClient(t, p, ""), code, base
}

func TestMFATrustCycle(t *testing.T) {
	clock, p, anon, code, base := startMFA(t)

	// No code, a wrong code, trust without a code: all mfa_required.
	wrong := base
	wrong.TOTP = "000000"
	if wrong.TOTP == code() {
		wrong.TOTP = "000001"
	}
	trustNoCode := base
	trustNoCode.TrustDevice = true
	for name, req := range map[string]api.LoginRequest{"no code": base, "wrong code": wrong, "trust without code": trustNoCode} {
		if res := login(anon, req); res.status != 401 || res.errCode() != api.CodeMFARequired {
			t.Fatalf("%s: %d %s", name, res.status, res.body)
		}
	}

	// A valid code with trust_device: signed in with mfa, device trusted.
	ok := base
	ok.TOTP = code()
	ok.TrustDevice = true
	var lr api.LoginResponse
	login(anon, ok).decode(t, 200, &lr)
	if !lr.Session.MFA || !lr.Device.Trusted || lr.Device.TrustedAt == nil || lr.Device.Name != "Work laptop" {
		t.Fatalf("login = session %+v device %+v", lr.Session, lr.Device)
	}
	deviceID := lr.Device.ID
	if lr.Session.DeviceID == nil || *lr.Session.DeviceID != deviceID {
		t.Errorf("session device = %v, want %s", lr.Session.DeviceID, deviceID)
	}

	// The same code again is refused (replay), even on another device.
	replay := base
	replay.TOTP = ok.TOTP
	if res := login(anon, replay); res.status != 401 || res.errCode() != api.CodeMFARequired {
		t.Errorf("replayed code: %d %s", res.status, res.body)
	}

	// The trusted device skips the code, given its ID and its secret.
	clock.Advance(time.Minute)
	again := base
	again.Device.ID = deviceID
	again.Device.Secret = lr.DeviceSecret
	var lr2 api.LoginResponse
	login(anon, again).decode(t, 200, &lr2)
	if lr2.Device.ID != deviceID || lr2.Session.MFA || !lr2.Device.Trusted {
		t.Errorf("trusted device login = session mfa %v device %+v", lr2.Session.MFA, lr2.Device)
	}

	// An admin revokes trust; the next sign-in needs the code again.
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	var d api.Device
	admin.do("POST", api.BasePath+"/devices/"+deviceID+"/untrust", map[string]string{"reason": "laptop sold"}).decode(t, 200, &d)
	if d.Trusted || d.TrustedAt != nil {
		t.Fatalf("untrusted device = %+v", d)
	}
	// Untrusting again: unchanged.
	var d2 api.Device
	admin.do("POST", api.BasePath+"/devices/"+deviceID+"/untrust", nil).decode(t, 200, &d2)
	if !d2.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("second untrust changed updated_at")
	}
	if res := login(anon, again); res.status != 401 || res.errCode() != api.CodeMFARequired {
		t.Fatalf("after untrust: %d %s", res.status, res.body)
	}
	clock.Advance(totp.Period)
	withCode := again
	withCode.TOTP = code()
	var lr3 api.LoginResponse
	login(anon, withCode).decode(t, 200, &lr3)
	if lr3.Device.ID != deviceID || lr3.Device.Trusted || !lr3.Session.MFA {
		t.Errorf("login after untrust = device %+v mfa %v", lr3.Device, lr3.Session.MFA)
	}

	// A code from one step ago is still accepted (clock skew), two steps not.
	clock.Advance(totp.Period)
	old := platformtest.MFACode(t, clock.Now().Add(-2*totp.Period))
	stale := again
	stale.TOTP = old
	if res := login(anon, stale); res.status != 401 {
		t.Errorf("code two steps old accepted: %d", res.status)
	}
	prev := platformtest.MFACode(t, clock.Now().Add(-totp.Period))
	if prev != withCode.TOTP { // not the one already used
		skew := again
		skew.TOTP = prev
		login(anon, skew).decode(t, 200, nil)
	}

	// For a user without TOTP, trust_device is ignored.
	member := api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password, TrustDevice: true}
	var ml api.LoginResponse
	login(anon, member).decode(t, 200, &ml)
	if ml.Device.Trusted || ml.Session.MFA {
		t.Errorf("member without TOTP got trusted=%v mfa=%v", ml.Device.Trusted, ml.Session.MFA)
	}
	// A device ID of another user means a new device.
	member.Device.ID = deviceID
	var ml2 api.LoginResponse
	login(anon, member).decode(t, 200, &ml2)
	if ml2.Device.ID == deviceID {
		t.Errorf("member reused mfa user's device")
	}
	// The member's own device ID is recognised.
	member.Device.ID = ml.Device.ID
	var ml3 api.LoginResponse
	login(anon, member).decode(t, 200, &ml3)
	if ml3.Device.ID != ml.Device.ID {
		t.Errorf("own device not recognised")
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	anon := newClient(t, p, "")
	for name, req := range map[string]api.LoginRequest{
		"unknown org":    {Org: "nope", Email: "admin@acme.test", Password: platformtest.Password},
		"unknown email":  {Org: "acme", Email: "nobody@acme.test", Password: platformtest.Password},
		"wrong password": {Org: "acme", Email: "admin@acme.test", Password: "wrong"},
		"other org":      {Org: "globex", Email: "admin@acme.test", Password: platformtest.Password},
	} {
		res := login(anon, req)
		if res.status != 401 || string(res.body) != `{"error":{"code":"unauthenticated","message":"wrong organization, e-mail or password"}}`+"\n" {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	// Login reports the client: IP, user agent and a label.
	var lr api.LoginResponse
	req := api.LoginRequest{Org: "acme", Email: "ADMIN@acme.test", Password: platformtest.Password}
	c := newClient(t, p, "")
	res := c.do("POST", api.BasePath+"/auth/login", req)
	res.decode(t, 200, &lr)
	if lr.Session.IP != "127.0.0.1" || lr.Session.UserAgent == "" || lr.Session.Client == "" || !lr.Session.Current ||
		lr.Session.Status != api.StatusActive || lr.User.Email != "admin@acme.test" || len(lr.Token) < 43 {
		t.Errorf("login = %+v", lr)
	}
	if exp := lr.Session.ExpiresAt.Sub(lr.Session.CreatedAt); exp != server.DefaultIdleTimeout {
		t.Errorf("expires_at - created_at = %v, want the idle timeout", exp)
	}
}

func TestSessionExpiry(t *testing.T) {
	clock := newFakeClock()
	// Each use slides the idle window (written at most once a minute).
	p2 := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: time.Hour})
	lr2 := p2.Login(t, "acme", "admin@acme.test")
	c2 := newClient(t, p2, lr2.Token)
	clock.Advance(59 * time.Minute)
	c2.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	clock.Advance(59 * time.Minute) // 59 min after the last use: still alive
	c2.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	clock.Advance(61 * time.Minute) // idle for more than an hour
	if res := c2.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Fatalf("idle session still works: %d", res.status)
	}
	var s api.SessionList
	newClient(t, p2, p2.Login(t, "acme", "admin@acme.test").Token).
		do("GET", api.BasePath+"/sessions?status=all&user_id="+lr2.User.ID+"&limit=1000", nil).decode(t, 200, &s)
	found := false
	for _, it := range s.Items {
		if it.ID == lr2.Session.ID {
			found = true
			if it.Status != api.StatusExpired {
				t.Errorf("idle session status %q", it.Status)
			}
		}
	}
	if !found {
		t.Error("expired session missing from status=all")
	}
}

func TestAbsoluteExpiry(t *testing.T) {
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	c := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	clock.Advance(50 * time.Minute)
	c.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	clock.Advance(50 * time.Minute)
	c.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	clock.Advance(21 * time.Minute) // 121 min after sign-in, 21 after last use
	if res := c.do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Fatalf("session past its absolute timeout works: %d", res.status)
	}
}

func TestLoginThrottle(t *testing.T) {
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 3, IPLimit: 6, Window: time.Minute}})
	anon := newClient(t, p, "")
	bad := api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: "guess"}
	good := bad
	good.Password = platformtest.Password
	for i := range 3 {
		if res := login(anon, bad); res.status != 401 {
			t.Fatalf("failure %d: %d", i, res.status)
		}
		clock.Advance(time.Second)
	}
	// Over the limit: even the right password is refused, with Retry-After.
	res := login(anon, good)
	if res.status != 429 || res.errCode() != api.CodeRateLimited {
		t.Fatalf("4th attempt: %d %s", res.status, res.body)
	}
	ra, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
	}
	// Another account from the same IP is not blocked by this account's limit.
	login(anon, api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}).decode(t, 200, nil)
	// After Retry-After the window has moved on.
	clock.Advance(time.Duration(ra) * time.Second)
	login(anon, good).decode(t, 200, nil)

	// The per-IP limit counts failures over all accounts.
	for i := range 6 {
		login(anon, api.LoginRequest{Org: "acme", Email: "x" + strconv.Itoa(i) + "@acme.test", Password: "guess"})
	}
	if res := login(anon, api.LoginRequest{Org: "globex", Email: "admin@globex.test", Password: platformtest.Password}); res.status != 429 {
		t.Fatalf("IP over its limit: %d %s", res.status, res.body)
	}
	clock.Advance(time.Minute + time.Second)
	login(anon, api.LoginRequest{Org: "globex", Email: "admin@globex.test", Password: platformtest.Password}).decode(t, 200, nil)
}
