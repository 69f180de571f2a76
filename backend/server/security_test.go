package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
	"sessiondesk/backend/totp"
)

// parallelLogins sends every request at once (released together) and
// returns the answers.
func parallelLogins(t *testing.T, c *client, reqs []api.LoginRequest) []response {
	t.Helper()
	out := make([]response, len(reqs))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, req := range reqs {
		done.Go(func() {
			start.Wait()
			out[i] = login(c, req)
		})
	}
	start.Done()
	done.Wait()
	return out
}

// countThrottled checks every answer is want or 429 with a Retry-After and
// returns how many were want.
func countThrottled(t *testing.T, res []response, wantCode string) int {
	t.Helper()
	n := 0
	for _, r := range res {
		switch r.errCode() {
		case wantCode:
			n++
		case api.CodeRateLimited:
			if ra, err := strconv.Atoi(r.header.Get("Retry-After")); r.status != 429 || err != nil || ra < 1 {
				t.Errorf("429 without a valid Retry-After: %d %q", r.status, r.header.Get("Retry-After"))
			}
		default:
			t.Errorf("unexpected answer %d %s", r.status, r.body)
		}
	}
	return n
}

// Parallel wrong guesses must not all be checked: the throttle reserves an
// attempt before the password (or code) is checked.
func TestLoginThrottleParallel(t *testing.T) {
	const parallel = 60
	t.Run("account", func(t *testing.T) {
		clock := newFakeClock()
		p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
			LoginThrottle: &server.ThrottleConfig{AccountLimit: 5, IPLimit: 1000, Window: time.Minute}})
		anon := newClient(t, p, "")
		bad := api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: "guess"}
		reqs := make([]api.LoginRequest, parallel)
		for i := range reqs {
			reqs[i] = bad
		}
		if n := countThrottled(t, parallelLogins(t, anon, reqs), api.CodeUnauthenticated); n > 5 {
			t.Errorf("%d parallel wrong passwords were checked, limit 5", n)
		}
		good := bad
		good.Password = platformtest.Password
		if res := login(anon, good); res.status != 429 {
			t.Errorf("right password inside the window: %d", res.status)
		}
		clock.Advance(time.Minute + time.Second)
		login(anon, good).decode(t, 200, nil)
	})
	t.Run("ip", func(t *testing.T) {
		clock := newFakeClock()
		p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
			LoginThrottle: &server.ThrottleConfig{AccountLimit: 1000, IPLimit: 5, Window: time.Minute}})
		anon := newClient(t, p, "")
		reqs := make([]api.LoginRequest, parallel)
		for i := range reqs {
			reqs[i] = api.LoginRequest{Org: "acme", Email: "x" + strconv.Itoa(i) + "@acme.test", Password: "guess"}
		}
		if n := countThrottled(t, parallelLogins(t, anon, reqs), api.CodeUnauthenticated); n > 5 {
			t.Errorf("%d parallel wrong logins from one IP were checked, limit 5", n)
		}
		clock.Advance(time.Minute + time.Second)
		login(anon, api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}).decode(t, 200, nil)
	})
	t.Run("totp", func(t *testing.T) {
		clock := newFakeClock()
		p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
			LoginThrottle: &server.ThrottleConfig{AccountLimit: 5, IPLimit: 1000, Window: time.Minute}})
		anon := newClient(t, p, "")
		valid := map[string]bool{}
		for _, d := range []time.Duration{-totp.Period, 0, totp.Period} {
			c := platformtest.MFACode(t, clock.Now().Add(d))
			valid[c] = true
		}
		reqs := make([]api.LoginRequest, 0, parallel)
		for i := 0; len(reqs) < parallel; i++ {
			code := strconv.Itoa(100000 + i*7919)
			if valid[code] {
				continue
			}
			reqs = append(reqs, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code})
		}
		if n := countThrottled(t, parallelLogins(t, anon, reqs), api.CodeMFARequired); n > 5 {
			t.Errorf("%d parallel wrong TOTP codes were checked, limit 5", n)
		}
		clock.Advance(time.Minute + time.Second)
		code := platformtest.MFACode(t, clock.Now())
		login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code}).decode(t, 200, nil)
	})
}

// A successful sign-in gives its reservation back: a user who signs in
// correctly many times is never throttled, and a challenge (password right,
// no code yet) is not a failure.
func TestLoginThrottleRefundsSuccess(t *testing.T) {
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now,
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 2, IPLimit: 3, Window: time.Minute}})
	anon := newClient(t, p, "")
	for range 8 {
		login(anon, api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}).decode(t, 200, nil)
		if res := login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password}); res.errCode() != api.CodeMFARequired {
			t.Fatalf("challenge: %d %s", res.status, res.body)
		}
	}
}

// The per-IP limit counts an IPv6 client by its /64 (one host usually holds
// a whole /64) and an IPv4-mapped IPv6 address as the IPv4 address.
func TestLoginThrottleIPKey(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 1000, IPLimit: 2, Window: time.Hour}})
	h := p.Server()
	try := func(remote string, i int) int {
		body := `{"org":"acme","email":"u` + strconv.Itoa(i) + `@acme.test","password":"guess"}`
		req := httptest.NewRequest("POST", api.BasePath+"/auth/login", strings.NewReader(body))
		req.RemoteAddr = remote
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		name    string
		remotes []string // the first two fail, the third is over the limit
	}{
		{"ipv6 /64", []string{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff::9]:2000", "[2001:db8:1:2:abcd:1:2:3]:3000"}},
		{"ipv4-mapped", []string{"192.0.2.7:1000", "[::ffff:192.0.2.7]:2000", "[::ffff:c000:207]:3000"}},
	} {
		for i, remote := range tc.remotes {
			want := 401
			if i == 2 {
				want = 429
			}
			if got := try(remote, i); got != want {
				t.Errorf("%s: attempt %d from %s = %d, want %d", tc.name, i+1, remote, got, want)
			}
		}
	}
	// Another /64 and another IPv4 address are counted on their own.
	for _, remote := range []string{"[2001:db8:1:3::1]:1000", "192.0.2.8:1000"} {
		if got := try(remote, 9); got != 401 {
			t.Errorf("%s = %d, want 401", remote, got)
		}
	}
}

// A trusted device skips TOTP only with the device secret issued when it
// was trusted: device IDs are visible to every viewer.
func TestTrustedDeviceNeedsSecret(t *testing.T) {
	clock, p, anon, code, base := startMFA(t)
	// trusting signs req in a code step later with the current code and
	// "trust this device".
	trusting := func(req api.LoginRequest) api.LoginResponse {
		t.Helper()
		clock.Advance(totp.Period)
		req.TOTP, req.TrustDevice = code(), true
		var lr api.LoginResponse
		login(anon, req).decode(t, 200, &lr)
		return lr
	}
	mfaRequired := func(name string, req api.LoginRequest) {
		t.Helper()
		if res := login(anon, req); res.status != 401 || res.errCode() != api.CodeMFARequired {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}

	// A seeded trusted device: its ID alone is not enough.
	ctx := context.Background()
	u, err := p.Store().UserByEmail(ctx, orgID(t, p, "acme"), "mfa@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	page, err := p.Store().ListDevices(ctx, u.OrgID, store.DeviceFilter{Trusted: &yes, UserID: u.ID, Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("the seed has no trusted device of mfa@acme.test: %v", err)
	}
	seeded := base
	seeded.Device.ID = page.Items[0].ID
	mfaRequired("seeded trusted device without secret", seeded)

	// Logins that do not trust a device get no secret.
	plain := base
	plain.TOTP = code()
	var lr0 api.LoginResponse
	login(anon, plain).decode(t, 200, &lr0)
	if lr0.DeviceSecret != "" || lr0.Device.Trusted {
		t.Errorf("login without trust_device: secret %q trusted %v", lr0.DeviceSecret, lr0.Device.Trusted)
	}

	lr := trusting(base)
	if !lr.Device.Trusted || len(lr.DeviceSecret) != 43 {
		t.Fatalf("trusting login: trusted %v secret %q", lr.Device.Trusted, lr.DeviceSecret)
	}
	clock.Advance(time.Minute)

	idOnly := base
	idOnly.Device.ID = lr.Device.ID
	mfaRequired("trusted device id without secret", idOnly)
	wrong := idOnly
	wrong.Device.Secret = lr0.Token // well-formed, not this device's
	mfaRequired("wrong secret", wrong)
	other := idOnly
	other.Email = "admin@acme.test" // another user presenting the device and its secret
	other.Device.Secret = lr.DeviceSecret
	var lro api.LoginResponse
	login(anon, other).decode(t, 200, &lro)
	if lro.Device.ID == lr.Device.ID {
		t.Errorf("another user signed in on the mfa user's device")
	}

	right := idOnly
	right.Device.Secret = lr.DeviceSecret
	var lr2 api.LoginResponse
	login(anon, right).decode(t, 200, &lr2)
	if lr2.Device.ID != lr.Device.ID || lr2.Session.MFA || lr2.DeviceSecret != "" {
		t.Errorf("login with the device secret = device %s mfa %v secret %q", lr2.Device.ID, lr2.Session.MFA, lr2.DeviceSecret)
	}
	// The device listing never shows the secret.
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	res := admin.do("GET", api.BasePath+"/devices?limit=1000", nil)
	if strings.Contains(string(res.body), lr.DeviceSecret) {
		t.Errorf("GET /devices shows the device secret")
	}

	admin.do("POST", api.BasePath+"/devices/"+lr.Device.ID+"/untrust", nil).decode(t, 200, nil)
	mfaRequired("right secret after untrust", right)

	// Trusting again issues a new secret; the old one stays dead.
	lr3 := trusting(right)
	if lr3.Device.ID != lr.Device.ID || !lr3.Device.Trusted || lr3.DeviceSecret == "" || lr3.DeviceSecret == lr.DeviceSecret {
		t.Fatalf("re-trust: device %+v secret %q", lr3.Device, lr3.DeviceSecret)
	}
	clock.Advance(time.Minute)
	mfaRequired("old secret after re-trust", right)
	fresh := idOnly
	fresh.Device.Secret = lr3.DeviceSecret
	login(anon, fresh).decode(t, 200, nil)
}

// A reset at the command line (store call with the system actor) signs the
// user out at once, kills the device secret, and reads back over the API
// with the "system" actor, as openapi.yaml describes.
func TestCredentialResetOverAPI(t *testing.T) {
	doc := loadSpec(t)
	clock := newFakeClock()
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now})
	anon := newClient(t, p, "")
	code := platformtest.MFACode(t, clock.Now())
	var lr api.LoginResponse
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code, TrustDevice: true}).decode(t, 200, &lr)
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)

	rv, err := p.Store().SetTOTPSecret(context.Background(), lr.User.ID, platformtest.MFASecret, store.Actor{Reason: "TOTP enrolled with platformd user totp"})
	if err != nil || rv.Sessions < 1 || rv.Devices < 1 {
		t.Fatalf("reset = %+v %v", rv, err)
	}
	if res := newClient(t, p, lr.Token).do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Errorf("session survived the reset: %d", res.status)
	}
	clock.Advance(time.Minute)
	if res := login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password,
		Device: api.LoginDevice{ID: lr.Device.ID, Secret: lr.DeviceSecret}}); res.errCode() != api.CodeMFARequired {
		t.Errorf("device secret survived the reset: %d %s", res.status, res.body)
	}

	req, _ := http.NewRequest("GET", p.URL()+api.BasePath+"/audit?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+admin.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var audit api.AuditList
	if err := json.Unmarshal(data, &audit); err != nil || len(audit.Items) != 1 {
		t.Fatalf("audit: %s", data)
	}
	e := audit.Items[0]
	if e.Action != api.ActionUserTOTPReset || e.Actor.ID != api.SystemActorID || e.Actor.Email != "" || e.Actor.Name == "" ||
		e.TargetID == nil || *e.TargetID != lr.User.ID || e.Count != rv.Sessions {
		t.Errorf("audit event = %+v", e)
	}
	pattern := api.BasePath + "/audit"
	item := doc.Paths.Value(pattern)
	route := &routers.Route{Spec: doc, Path: pattern, PathItem: item, Method: "GET", Operation: item.GetOperation("GET")}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(data)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}); err != nil {
		t.Errorf("audit with the system actor does not match openapi.yaml: %v", err)
	}
}
