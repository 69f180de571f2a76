package server_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

func TestBadInput(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	anon := newClient(t, p, "")
	b := api.BasePath
	goodSession := activeSessions(t, p, "acme")[3].ID
	var devPage api.DeviceList
	admin.do("GET", b+"/devices?limit=1", nil).decode(t, 200, &devPage)
	devCursor := *devPage.NextCursor
	var sesPage api.SessionList
	admin.do("GET", b+"/sessions?limit=1", nil).decode(t, 200, &sesPage)
	sesCursor := *sesPage.NextCursor
	huge := `{"org":"acme","email":"a@acme.test","password":"` + strings.Repeat("x", 70<<10) + `"}`
	hugeReason := `{"reason":"` + strings.Repeat("x", 70<<10) + `"}`
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	cases := []struct {
		name, method, path string
		body               any
		c                  *client
	}{
		{"login malformed JSON", "POST", b + "/auth/login", `{"org":`, anon},
		{"login not JSON", "POST", b + "/auth/login", `hello`, anon},
		{"login empty body", "POST", b + "/auth/login", ``, anon},
		{"login array", "POST", b + "/auth/login", `[]`, anon},
		{"login wrong type", "POST", b + "/auth/login", `{"org":1,"email":"a","password":"b"}`, anon},
		{"login unknown field", "POST", b + "/auth/login", `{"org":"acme","email":"a@acme.test","password":"x","admin":true}`, anon},
		{"login unknown nested field", "POST", b + "/auth/login", `{"org":"acme","email":"a@acme.test","password":"x","device":{"serial":"1"}}`, anon},
		{"login trailing data", "POST", b + "/auth/login", `{"org":"acme","email":"a@acme.test","password":"x"} {}`, anon},
		{"login trailing garbage", "POST", b + "/auth/login", `{"org":"acme","email":"a@acme.test","password":"x"}x`, anon},
		{"login over 64 KiB", "POST", b + "/auth/login", huge, anon},
		{"login missing fields", "POST", b + "/auth/login", `{"org":"acme"}`, anon},
		{"login device name too long", "POST", b + "/auth/login", `{"org":"acme","email":"a@acme.test","password":"x","device":{"name":"` + strings.Repeat("n", 201) + `"}}`, anon},
		{"terminate malformed JSON", "POST", b + "/sessions/" + goodSession + "/terminate", `{"reason":`, admin},
		{"terminate unknown field", "POST", b + "/sessions/" + goodSession + "/terminate", `{"why":"x"}`, admin},
		{"terminate reason too long", "POST", b + "/sessions/" + goodSession + "/terminate", map[string]string{"reason": strings.Repeat("é", api.MaxReasonLen+1)}, admin},
		{"terminate body over 64 KiB", "POST", b + "/sessions/" + goodSession + "/terminate", hugeReason, admin},
		{"terminate bad ID", "POST", b + "/sessions/not-an-id/terminate", nil, admin},
		{"terminate device ID", "POST", b + "/sessions/dev_" + strings.Repeat("a", 26) + "/terminate", nil, admin},
		{"terminate short ID", "POST", b + "/sessions/ses_abc/terminate", nil, admin},
		{"terminate upper-case ID", "POST", b + "/sessions/ses_" + strings.Repeat("A", 26) + "/terminate", nil, admin},
		{"untrust bad ID", "POST", b + "/devices/" + goodSession + "/untrust", nil, admin},
		{"untrust unknown field", "POST", b + "/devices/dev_" + strings.Repeat("a", 26) + "/untrust", `{"reason":"x","force":true}`, admin},
		{"terminate-all wrong type", "POST", b + "/sessions/terminate-all", `{"keep_current":"yes"}`, admin},
		{"terminate-all unknown field", "POST", b + "/sessions/terminate-all", `{"everyone":true}`, admin},
		{"terminate-all reason too long", "POST", b + "/sessions/terminate-all", map[string]string{"reason": strings.Repeat("r", api.MaxReasonLen+1)}, admin},
		{"selected no body", "POST", b + "/sessions/terminate", ``, admin},
		{"selected null", "POST", b + "/sessions/terminate", `null`, admin},
		{"selected no ids", "POST", b + "/sessions/terminate", `{"reason":"x"}`, admin},
		{"selected empty ids", "POST", b + "/sessions/terminate", `{"ids":[]}`, admin},
		{"selected ids not a list", "POST", b + "/sessions/terminate", `{"ids":"` + goodSession + `"}`, admin},
		{"selected ids of numbers", "POST", b + "/sessions/terminate", `{"ids":[1]}`, admin},
		{"selected over 1000 ids", "POST", b + "/sessions/terminate", api.TerminateSelectedRequest{IDs: repeatID(goodSession, api.MaxSelected+1)}, admin},
		{"selected malformed id", "POST", b + "/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{goodSession, "ses_abc"}}, admin},
		{"selected device id", "POST", b + "/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{"dev_" + strings.Repeat("a", 26)}}, admin},
		{"selected unknown field", "POST", b + "/sessions/terminate", `{"ids":["` + goodSession + `"],"all":true}`, admin},
		{"selected reason too long", "POST", b + "/sessions/terminate", api.TerminateSelectedRequest{IDs: []string{goodSession}, Reason: strings.Repeat("r", api.MaxReasonLen+1)}, admin},
		{"user sign-out bad ID", "POST", b + "/users/admin/sessions/terminate", nil, admin},
		{"user sign-out session ID", "POST", b + "/users/" + goodSession + "/sessions/terminate", nil, admin},
		{"user sign-out wrong type", "POST", b + "/users/usr_" + strings.Repeat("a", 26) + "/sessions/terminate", `{"keep_current":1}`, admin},
		{"user sign-out unknown field", "POST", b + "/users/usr_" + strings.Repeat("a", 26) + "/sessions/terminate", `{"devices":true}`, admin},
		{"user sign-out reason too long", "POST", b + "/users/usr_" + strings.Repeat("a", 26) + "/sessions/terminate", map[string]string{"reason": strings.Repeat("r", api.MaxReasonLen+1)}, admin},
		{"audit action upper-case", "GET", b + "/audit?action=SESSION.TERMINATE", nil, admin},
		{"audit action too long", "GET", b + "/audit?action=" + strings.Repeat("a", api.MaxActionLen+1), nil, admin},
		{"audit action injection", "GET", b + "/audit?action=" + url.QueryEscape("x' OR 1=1"), nil, admin},
		{"audit actor_id malformed", "GET", b + "/audit?actor_id=admin", nil, admin},
		{"audit actor_id session", "GET", b + "/audit?actor_id=" + goodSession, nil, admin},
		{"audit target_user_id malformed", "GET", b + "/audit?target_user_id=system", nil, admin},
		{"audit q too long", "GET", b + "/audit?q=" + strings.Repeat("q", 201), nil, admin},
		{"audit q invalid UTF-8", "GET", b + "/audit?q=%ff", nil, admin},
		{"limit zero", "GET", b + "/sessions?limit=0", nil, admin},
		{"limit negative", "GET", b + "/sessions?limit=-1", nil, admin},
		{"limit too big", "GET", b + "/sessions?limit=1001", nil, admin},
		{"limit not a number", "GET", b + "/sessions?limit=ten", nil, admin},
		{"limit float", "GET", b + "/devices?limit=1.5", nil, admin},
		{"audit limit", "GET", b + "/audit?limit=100000000000000000000", nil, admin},
		{"status unknown", "GET", b + "/sessions?status=terminated", nil, admin},
		{"status case", "GET", b + "/sessions?status=ALL", nil, admin},
		{"status active with feed", "GET", b + "/sessions?status=active&updated_since=2026-01-01T00:00:00Z", nil, admin},
		{"trusted unknown", "GET", b + "/devices?trusted=yes", nil, admin},
		{"user_id malformed", "GET", b + "/sessions?user_id=admin", nil, admin},
		{"device user_id malformed", "GET", b + "/devices?user_id=" + goodSession, nil, admin},
		{"q too long", "GET", b + "/sessions?q=" + strings.Repeat("q", 201), nil, admin},
		{"q invalid UTF-8", "GET", b + "/sessions?q=%ff", nil, admin},
		{"updated_since not a time", "GET", b + "/sessions?updated_since=yesterday", nil, admin},
		{"updated_since no zone", "GET", b + "/devices?updated_since=2026-01-01T00:00:00", nil, admin},
		{"updated_since unix", "GET", b + "/sessions?updated_since=1700000000", nil, admin},
		{"cursor garbage", "GET", b + "/sessions?cursor=%%%", nil, admin},
		{"cursor not base64", "GET", b + "/sessions?cursor=***", nil, admin},
		{"cursor bad content", "GET", b + "/sessions?cursor=" + b64("v1.s.abc.ses_x"), nil, admin},
		{"cursor negative time", "GET", b + "/sessions?cursor=" + b64("v1.s.-5.ses_"+strings.Repeat("a", 26)), nil, admin},
		{"cursor bad id", "GET", b + "/sessions?cursor=" + b64("v1.s.5.ses_a"), nil, admin},
		{"cursor of devices on sessions", "GET", b + "/sessions?cursor=" + devCursor, nil, admin},
		{"cursor of sessions on devices", "GET", b + "/devices?cursor=" + sesCursor, nil, admin},
		{"cursor of list on feed", "GET", b + "/sessions?updated_since=2026-01-01T00:00:00Z&cursor=" + sesCursor, nil, admin},
		{"cursor of sessions on audit", "GET", b + "/audit?cursor=" + sesCursor, nil, admin},
		{"cursor too long", "GET", b + "/sessions?cursor=" + strings.Repeat("A", 500), nil, admin},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.c.do(tc.method, tc.path, tc.body)
			if res.status != 400 || res.errCode() != api.CodeInvalidArgument {
				t.Fatalf("%s %s = %d %s, want 400 invalid_argument", tc.method, tc.path, res.status, truncateBody(res.body))
			}
		})
	}
	// The oversize body's content is not echoed back.
	res := anon.do("POST", b+"/auth/login", huge)
	if strings.Contains(string(res.body), "xxxx") {
		t.Errorf("error echoes the body: %s", truncateBody(res.body))
	}
	// Optional bodies may be empty, and null.
	admin.do("POST", b+"/sessions/"+goodSession+"/terminate", "").decode(t, 200, nil)
	admin.do("POST", b+"/sessions/"+goodSession+"/terminate", "null").decode(t, 200, nil)
	// q with LIKE metacharacters is a plain substring.
	var page api.SessionList
	admin.do("GET", b+"/sessions?q="+url.QueryEscape("%_"), nil).decode(t, 200, &page)
	if len(page.Items) != 0 {
		t.Errorf("q=%%_ matched %d sessions", len(page.Items))
	}
}

func repeatID(id string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = id
	}
	return out
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func TestSearchAndFilters(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	all := admin.allSessions("status=all", 1000)
	active := admin.allSessions("", 1000)
	if len(active) >= len(all) || len(active) == 0 {
		t.Fatalf("active %d, all %d", len(active), len(all))
	}
	for _, s := range active {
		if s.Status != api.StatusActive {
			t.Fatalf("status=active returned %s", s.Status)
		}
	}
	// Newest first, no repeats.
	seen := map[string]bool{}
	for i, s := range all {
		if seen[s.ID] {
			t.Fatalf("repeat %s", s.ID)
		}
		seen[s.ID] = true
		if i > 0 && s.CreatedAt.After(all[i-1].CreatedAt) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	for _, q := range []string{"FIREFOX", "203.0.113", "ACME.TEST", "ada admin"} {
		got := admin.allSessions("status=all&q="+url.QueryEscape(q), 50)
		if len(got) == 0 {
			t.Errorf("q=%s matched nothing", q)
		}
		lq := strings.ToLower(q)
		for _, s := range got {
			hay := strings.ToLower(s.User.Email + "|" + s.User.Name + "|" + s.IP + "|" + s.Client)
			if !strings.Contains(hay, lq) {
				t.Errorf("q=%s matched %+v", q, s)
			}
		}
	}
	u := all[0].User
	for _, s := range admin.allSessions("status=all&user_id="+u.ID, 7) {
		if s.User.ID != u.ID {
			t.Errorf("user_id filter returned %s", s.User.ID)
		}
	}
	trusted := admin.allDevices("trusted=true", 13)
	untrusted := admin.allDevices("trusted=false", 1000)
	every := admin.allDevices("", 1000)
	if len(trusted) == 0 || len(trusted)+len(untrusted) != len(every) {
		t.Errorf("trusted %d + untrusted %d != %d", len(trusted), len(untrusted), len(every))
	}
	for _, d := range trusted {
		if !d.Trusted || d.TrustedAt == nil {
			t.Errorf("trusted=true returned %+v", d)
		}
	}
	for _, d := range admin.allDevices("q="+url.QueryEscape("ios"), 1000) {
		hay := strings.ToLower(d.User.Email + "|" + d.User.Name + "|" + d.Name + "|" + d.LastIP + "|" + d.Platform)
		if !strings.Contains(hay, "ios") {
			t.Errorf("q=ios matched %+v", d)
		}
	}
}
