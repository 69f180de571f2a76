package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// raw sends a request with exactly the given headers and body.
func raw(t *testing.T, method, url, body string, header map[string]string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No redirect may be followed silently: the test must see it.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func TestBodiesMustBeJSON(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	victim := activeSessions(t, p, "acme")[3]
	b := p.URL() + api.BasePath
	login := `{"org":"acme","email":"auditor@acme.test","password":"` + platformtest.Password + `"}`
	before := len(activeSessions(t, p, "acme"))

	refused := []struct{ name, method, path, body, ctype string }{
		{"login without Content-Type", "POST", "/auth/login", login, ""},
		{"login as a form", "POST", "/auth/login", "org=acme&email=x", "application/x-www-form-urlencoded"},
		{"login as text/plain", "POST", "/auth/login", login, "text/plain"},
		{"login as JSON in latin-1", "POST", "/auth/login", login, "application/json; charset=latin1"},
		{"login as JSON with another parameter", "POST", "/auth/login", login, "application/json; boundary=x"},
		{"login as application/jsonx", "POST", "/auth/login", login, "application/jsonx"},
		{"terminate as text/plain", "POST", "/sessions/" + victim.ID + "/terminate", `{"reason":"x"}`, "text/plain"},
		{"terminate-all as multipart", "POST", "/sessions/terminate-all", `{"keep_current":false}`, "multipart/form-data; boundary=x"},
		{"logout with a body but no type", "POST", "/auth/logout", `{}`, ""},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"Authorization": "Bearer " + admin.Token}
			if c.ctype != "" {
				h["Content-Type"] = c.ctype
			}
			res := raw(t, c.method, b+c.path, c.body, h)
			if res.status != 415 || res.errCode() != api.CodeUnsupportedMediaType {
				t.Fatalf("= %d %s, want 415 unsupported_media_type", res.status, res.body)
			}
		})
	}
	// Nothing changed: no new session, nobody signed out, the caller still in.
	if after := len(activeSessions(t, p, "acme")); after != before {
		t.Errorf("active sessions %d -> %d after refused requests", before, after)
	}
	newClient(t, p, admin.Token).do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)

	// JSON with charset utf-8 (any case) is accepted; an empty body needs no type.
	res := raw(t, "POST", b+"/auth/login", login, map[string]string{"Content-Type": "Application/JSON; Charset=UTF-8"})
	res.decode(t, 200, nil)
	res = raw(t, "POST", b+"/sessions/"+victim.ID+"/terminate", "", map[string]string{"Authorization": "Bearer " + admin.Token})
	res.decode(t, 200, nil)
}

func TestUserAgentIsCut(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	// 3 + 2*400 bytes: the 512-byte cut falls inside a 2-byte character.
	ua := "UA/" + strings.Repeat("é", 400)
	res := raw(t, "POST", p.URL()+api.BasePath+"/auth/login",
		`{"org":"acme","email":"auditor@acme.test","password":"`+platformtest.Password+`"}`,
		map[string]string{"Content-Type": "application/json", "User-Agent": ua})
	var lr api.LoginResponse
	res.decode(t, 200, &lr)
	got := lr.Session.UserAgent
	if len(got) > api.MaxUserAgentBytes || len(got) < api.MaxUserAgentBytes-3 || !utf8.ValidString(got) || !strings.HasPrefix(ua, got) {
		t.Fatalf("user_agent of %d bytes (valid %v), want a prefix of at most %d bytes", len(got), utf8.ValidString(got), api.MaxUserAgentBytes)
	}
	// Stored cut, so every list returns it cut.
	admin := p.Login(t, "acme", "admin@acme.test")
	for _, s := range newClient(t, p, admin.Token).allSessions("status=all", 1000) {
		if len(s.UserAgent) > api.MaxUserAgentBytes {
			t.Errorf("session %s lists a user_agent of %d bytes", s.ID, len(s.UserAgent))
		}
		if s.ID == lr.Session.ID && s.UserAgent != got {
			t.Errorf("listed user_agent differs from the login answer")
		}
	}
	// Invalid UTF-8 cannot grow past the limit when encoded as JSON.
	bad := strings.Repeat("\xff", 600)
	res = raw(t, "POST", p.URL()+api.BasePath+"/auth/login",
		`{"org":"acme","email":"auditor@acme.test","password":"`+platformtest.Password+`"}`,
		map[string]string{"Content-Type": "application/json", "User-Agent": bad})
	res.decode(t, 200, &lr)
	if n := len(lr.Session.UserAgent); n > api.MaxUserAgentBytes || !utf8.ValidString(lr.Session.UserAgent) {
		t.Errorf("user_agent from invalid UTF-8: %d bytes", n)
	}
}

func TestDeviceNameAndPlatformLimits(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	c := newClient(t, p, "")
	try := func(name, platform string) response {
		return c.do("POST", api.BasePath+"/auth/login", map[string]any{
			"org": "acme", "email": "auditor@acme.test", "password": platformtest.Password,
			"device": map[string]string{"name": name, "platform": platform}})
	}
	try(strings.Repeat("ü", api.MaxDeviceNameLen), strings.Repeat("ü", api.MaxDevicePlatformLen)).decode(t, 200, nil)
	for _, c := range []struct{ name, platform string }{
		{strings.Repeat("a", api.MaxDeviceNameLen+1), "Linux"},
		{"laptop", strings.Repeat("a", api.MaxDevicePlatformLen+1)},
	} {
		if res := try(c.name, c.platform); res.status != 400 || res.errCode() != api.CodeInvalidArgument {
			t.Errorf("name %d, platform %d chars = %d %s, want 400", len(c.name), len(c.platform), res.status, res.body)
		}
	}
}

func TestUpdatedSinceRange(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	all := len(admin.allSessions("status=all", 1000))
	allDevices := len(admin.allDevices("", 1000))
	for _, c := range []struct {
		since    string
		status   int
		sessions int // -1: every session
		devices  int
	}{
		{"1970-01-01T00:00:00Z", 200, -1, -1},
		{"1970-01-01T01:00:00%2B01:00", 200, -1, -1}, // 1970-01-01T00:00Z
		{"2000-02-29T12:00:00.123456789Z", 200, -1, -1},
		{"2262-04-12T00:00:00Z", 200, 0, 0}, // past int64 nanoseconds
		{"3000-01-01T00:00:00Z", 200, 0, 0},
		{"9999-12-31T23:59:59.999999999Z", 200, 0, 0},
		{"1969-12-31T23:59:59Z", 400, 0, 0},
		{"0001-01-01T00:00:00Z", 400, 0, 0},
		{"9999-12-31T23:00:00-01:00", 400, 0, 0}, // year 10000 in UTC
		{"10000-01-01T00:00:00Z", 400, 0, 0},
		{"2026-13-01T00:00:00Z", 400, 0, 0},
		{"2026-01-01", 400, 0, 0},
		{"2026-01-01%2000:00:00Z", 400, 0, 0},
		{"yesterday", 400, 0, 0},
	} {
		res := admin.do("GET", api.BasePath+"/sessions?limit=1000&updated_since="+c.since, nil)
		dres := admin.do("GET", api.BasePath+"/devices?limit=1000&updated_since="+c.since, nil)
		if res.status != c.status || dres.status != c.status {
			t.Errorf("updated_since=%s: sessions %d, devices %d, want %d (%s)", c.since, res.status, dres.status, c.status, res.body)
			continue
		}
		if c.status != 200 {
			if res.errCode() != api.CodeInvalidArgument {
				t.Errorf("updated_since=%s: %s", c.since, res.body)
			}
			continue
		}
		want, wantDev := c.sessions, c.devices
		if want < 0 {
			want, wantDev = all, allDevices
		}
		got := len(admin.allSessions("updated_since="+c.since, 1000))
		gotDev := len(admin.allDevices("updated_since="+c.since, 1000))
		if got != want || gotDev != wantDev {
			t.Errorf("updated_since=%s: %d sessions, %d devices; want %d, %d", c.since, got, gotDev, want, wantDev)
		}
	}
}

func TestNonRoutesAreJSON404(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	for _, path := range []string{
		"//api/v1/sessions", "/api/v1/sessions/", "/api/v1//sessions", "/api/v1/sessions/../me",
		"/api/v1/./me", "/api/v1", "/api/v1/", "/", "/index.html", "/api/v2/sessions", "/healthz/",
	} {
		res := raw(t, "GET", p.URL()+path, "", map[string]string{"Authorization": "Bearer " + admin.Token})
		if res.status != 404 || res.errCode() != api.CodeNotFound || res.header.Get("Location") != "" ||
			res.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q (Location %q)", path, res.status, res.body, res.header.Get("Location"))
		}
	}
}

func TestEveryAnswerHasSafetyHeaders(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	b := p.URL() + api.BasePath
	auth := map[string]string{"Authorization": "Bearer " + admin.Token}
	for _, c := range []struct {
		method, url, body string
		header            map[string]string
		status            int
	}{
		{"GET", p.URL() + "/healthz", "", nil, 200},
		{"GET", b + "/me", "", auth, 200},
		{"GET", b + "/sessions?limit=5", "", auth, 200},
		{"GET", b + "/devices?limit=5", "", auth, 200},
		{"GET", b + "/audit", "", auth, 200},
		{"GET", b + "/me", "", nil, 401},
		{"GET", b + "/sessions?limit=0", "", auth, 400},
		{"GET", b + "/nope", "", nil, 404},
		{"DELETE", b + "/me", "", nil, 405},
		{"POST", b + "/auth/login", "x", map[string]string{"Content-Type": "text/plain"}, 415},
		{"POST", b + "/auth/logout", "", auth, 204},
	} {
		res := raw(t, c.method, c.url, c.body, c.header)
		if res.status != c.status {
			t.Errorf("%s %s = %d, want %d", c.method, c.url, res.status, c.status)
		}
		if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, Cache-Control %q", c.method, c.url, res.status,
				res.header.Get("X-Content-Type-Options"), res.header.Get("Cache-Control"))
		}
	}
}

// TestClientFieldsBoundListItems signs in with every client-set field at its
// limit and made of the characters JSON escapes the most: no list item
// grows past 4 KiB.
func TestClientFieldsBoundListItems(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	worst := []string{strings.Repeat("<", 600), strings.Repeat("\u2028", 300), "Mozilla/5.0 (" + strings.Repeat("<&>", 200) + ") Firefox/133.0"}
	for _, ua := range worst {
		res := raw(t, "POST", p.URL()+api.BasePath+"/auth/login",
			`{"org":"acme","email":"auditor@acme.test","password":"`+platformtest.Password+`","device":{"name":"`+strings.Repeat(`<\"`, 100)+`","platform":"`+strings.Repeat("<", 100)+`"}}`,
			map[string]string{"Content-Type": "application/json", "User-Agent": ua})
		res.decode(t, 200, nil)
	}
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	for _, list := range []string{"/sessions?status=all&limit=1000", "/devices?limit=1000"} {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		admin.do("GET", api.BasePath+list, nil).decode(t, 200, &page)
		biggest := 0
		for _, it := range page.Items {
			biggest = max(biggest, len(it))
		}
		if biggest > 4096 {
			t.Errorf("%s: an item of %d bytes", list, biggest)
		}
		t.Logf("%s: biggest item %d bytes", list, biggest)
	}
}
