package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/storetest"
	"sessiondesk/internal/testutil"
)

// newFakeClock is the clock tests move by hand, at a fixed start.
func newFakeClock() *testutil.Clock { return testutil.NewClock() }

// client calls the API with an optional token.
type client struct {
	t     testing.TB
	base  string
	token string
}

func newClient(t testing.TB, p *platformtest.Platform, token string) *client {
	return &client{t: t, base: p.URL(), token: token}
}

// signedIn signs email of org in through p and returns a client with the
// new token, and the sign-in's answer.
func signedIn(t testing.TB, p *platformtest.Platform, org, email string) (*client, api.LoginResponse) {
	t.Helper()
	lr := p.Login(t, org, email)
	return newClient(t, p, lr.Token), lr
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends body as is when it is a string, else as JSON (nil: no body).
func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.base + path
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// decode unmarshals the body into v, failing on a status other than want.
func (r response) decode(t testing.TB, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// errCode returns the error code of an error body ("" when not one).
func (r response) errCode() string {
	var e api.ErrorBody
	if json.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// allSessions pages through /sessions with extra query parameters.
func (c *client) allSessions(query string, limit int) []api.Session {
	c.t.Helper()
	return allPages[api.Session](c, "/sessions", query, limit)
}

// allDevices pages through /devices with extra query parameters.
func (c *client) allDevices(query string, limit int) []api.Device {
	c.t.Helper()
	return allPages[api.Device](c, "/devices", query, limit)
}

// allPages follows a list route's next cursors to the end.
func allPages[T any](c *client, route, query string, limit int) []T {
	c.t.Helper()
	var out []T
	cursor := ""
	for {
		q := query + "&limit=" + itoa(limit)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		c.do("GET", api.BasePath+route+"?"+q, nil).decode(c.t, 200, &page)
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func orgID(t testing.TB, p *platformtest.Platform, slug string) string {
	t.Helper()
	o, err := p.Store().OrgBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// activeSessions lists an org's active sessions straight from the store.
func activeSessions(t testing.TB, p *platformtest.Platform, slug string) []store.Session {
	t.Helper()
	return storetest.AllSessions(t, p.Store(), orgID(t, p, slug), store.SessionFilter{ActiveOnly: true, Now: time.Now(), Limit: 1000})
}

// trustedDevice returns a trusted device of the org.
func trustedDevice(t testing.TB, p *platformtest.Platform, slug string) store.Device {
	t.Helper()
	yes := true
	page, err := p.Store().ListDevices(context.Background(), orgID(t, p, slug), store.DeviceFilter{Trusted: &yes, Limit: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("no trusted device in %s: %v", slug, err)
	}
	return page.Items[0]
}
