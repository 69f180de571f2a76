package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid: %v", err)
	}
	return doc
}

func TestOpenAPIRoutesMatchServer(t *testing.T) {
	doc := loadSpec(t)
	var inSpec, inServer []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inSpec = append(inSpec, method+" "+path)
		}
	}
	for _, rt := range server.Routes() {
		inServer = append(inServer, rt.Method+" "+rt.Pattern)
	}
	sort.Strings(inSpec)
	sort.Strings(inServer)
	if strings.Join(inSpec, "\n") != strings.Join(inServer, "\n") {
		t.Fatalf("routes differ\nopenapi.yaml:\n%s\n\nserver:\n%s", strings.Join(inSpec, "\n"), strings.Join(inServer, "\n"))
	}
	// Routes that need no token are exactly those the spec opens to anyone.
	for _, rt := range server.Routes() {
		op := doc.Paths.Value(rt.Pattern).GetOperation(rt.Method)
		open := op.Security != nil && len(*op.Security) == 0
		if open == rt.Auth {
			t.Errorf("%s %s: spec open=%v, server auth=%v", rt.Method, rt.Pattern, open, rt.Auth)
		}
	}
}

// TestOpenAPIPermissionsMatchServer: each operation's description names
// exactly the permissions its route checks (Route.Permission, and
// Route.PermissionForOthers where the caller's own {id} needs less), so the
// document cannot keep promising what the server no longer does.
func TestOpenAPIPermissionsMatchServer(t *testing.T) {
	doc := loadSpec(t)
	all := []string{api.PermSessionsView, api.PermSessionsTerminateOrg, api.PermDevicesRevokeTrust}
	for _, rt := range server.Routes() {
		desc := doc.Paths.Value(rt.Pattern).GetOperation(rt.Method).Description
		for _, perm := range all {
			needed := perm == rt.Permission || perm == rt.PermissionForOthers
			if strings.Contains(desc, perm) != needed {
				t.Errorf("%s %s: description mentions %s: %v, route needs it: %v (%q)", rt.Method, rt.Pattern, perm, !needed, needed, desc)
			}
		}
		if rt.Permission != "" && !strings.Contains(desc, "Needs "+rt.Permission) {
			t.Errorf("%s %s: description does not start its rule with \"Needs %s\": %q", rt.Method, rt.Pattern, rt.Permission, desc)
		}
	}
}

// TestResponsesMatchOpenAPI makes real calls, successes and errors, and
// validates each answer (status, headers, body) against the spec.
func TestResponsesMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	member := p.Login(t, "acme", "member@acme.test")
	victim := activeSessions(t, p, "acme")[4]
	device := trustedDevice(t, p, "acme")
	b := api.BasePath
	mfaCode := platformtest.MFACode(t, time.Now())

	calls := []struct {
		token, method, pattern, path, body string
		status                             int
	}{
		{"", "GET", "/healthz", "/healthz", "", 200},
		{"", "POST", b + "/auth/login", b + "/auth/login", `{"org":"acme","email":"auditor@acme.test","password":"demo-password","device":{"name":"x"}}`, 200},
		{"", "POST", b + "/auth/login", b + "/auth/login", `{"org":"acme","email":"auditor@acme.test","password":"nope"}`, 401},
		{"", "POST", b + "/auth/login", b + "/auth/login", `{"org":"acme","email":"mfa@acme.test","password":"demo-password"}`, 401},
		// A login that trusts its device answers with device_secret.
		{"", "POST", b + "/auth/login", b + "/auth/login", `{"org":"acme","email":"mfa@acme.test","password":"demo-password","totp":"` + mfaCode + `","trust_device":true,"device":{"name":"x"}}`, 200},
		{"", "POST", b + "/auth/login", b + "/auth/login", `{"bad":1}`, 400},
		{admin.Token, "GET", b + "/me", b + "/me", "", 200},
		{member.Token, "GET", b + "/me", b + "/me", "", 200},
		{"", "GET", b + "/me", b + "/me", "", 401},
		{admin.Token, "GET", b + "/sessions", b + "/sessions?status=all&limit=200", "", 200},
		{admin.Token, "GET", b + "/sessions", b + "/sessions?updated_since=2020-01-01T00:00:00Z&limit=50", "", 200},
		{admin.Token, "GET", b + "/sessions", b + "/sessions?limit=0", "", 400},
		{member.Token, "GET", b + "/sessions", b + "/sessions", "", 403},
		{admin.Token, "POST", b + "/sessions/{id}/terminate", b + "/sessions/" + victim.ID + "/terminate", `{"reason":"test"}`, 200},
		{admin.Token, "POST", b + "/sessions/{id}/terminate", b + "/sessions/ses_" + strings.Repeat("b", 26) + "/terminate", "", 404},
		{admin.Token, "GET", b + "/devices", b + "/devices?limit=300", "", 200},
		{admin.Token, "POST", b + "/devices/{id}/untrust", b + "/devices/" + device.ID + "/untrust", "", 200},
		{admin.Token, "POST", b + "/sessions/terminate", b + "/sessions/terminate", `{"ids":["` + victim.ID + `","ses_` + strings.Repeat("c", 26) + `"],"reason":"picked"}`, 200},
		{admin.Token, "POST", b + "/sessions/terminate", b + "/sessions/terminate", `{"ids":[]}`, 400},
		{member.Token, "POST", b + "/sessions/terminate", b + "/sessions/terminate", `{"ids":["` + victim.ID + `"]}`, 403},
		{admin.Token, "POST", b + "/users/{id}/sessions/terminate", b + "/users/" + victim.User.ID + "/sessions/terminate", `{"reason":"left"}`, 200},
		{admin.Token, "POST", b + "/users/{id}/sessions/terminate", b + "/users/usr_" + strings.Repeat("c", 26) + "/sessions/terminate", "", 404},
		{admin.Token, "GET", b + "/audit", b + "/audit", "", 200},
		{admin.Token, "GET", b + "/audit", b + "/audit?action=session.terminate&q=test&actor_id=" + admin.User.ID, "", 200},
		{admin.Token, "GET", b + "/audit", b + "/audit?action=BAD", "", 400},
		{member.Token, "POST", b + "/sessions/terminate-all", b + "/sessions/terminate-all", "", 403},
		{admin.Token, "POST", b + "/sessions/terminate-all", b + "/sessions/terminate-all", `{"keep_current":true,"reason":"drill"}`, 200},
		{admin.Token, "GET", b + "/audit", b + "/audit?limit=20", "", 200}, // every action, with targets
		{admin.Token, "POST", b + "/auth/logout", b + "/auth/logout", "", 204},
		{admin.Token, "GET", b + "/me", b + "/me", "", 401},
	}
	for _, c := range calls {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, err := http.NewRequest(c.method, p.URL()+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s %s = %d, want %d: %s", c.method, c.path, res.StatusCode, c.status, data)
			continue
		}
		if err := matchSpec(doc, c.pattern, req, res, data); err != nil {
			t.Errorf("%s %s (%d) does not match openapi.yaml: %v\n%s", c.method, c.path, res.StatusCode, err, truncateBody(data))
		}
	}
}

// matchSpec validates an answer (status, headers, body) to req, a request
// of the route pattern, against the spec.
func matchSpec(doc *openapi3.T, pattern string, req *http.Request, res *http.Response, body []byte) error {
	item := doc.Paths.Value(pattern)
	route := &routers.Route{Spec: doc, Path: pattern, PathItem: item, Method: req.Method, Operation: item.GetOperation(req.Method)}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}
