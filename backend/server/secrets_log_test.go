package server_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// recordingHandler keeps every log record with its attributes (groups and
// WithAttrs included) as key/value strings, whatever the output format
// would make of them.
type recordingHandler struct {
	mu      *sync.Mutex
	records *[]loggedRecord
	attrs   []slog.Attr
	group   string
}

type loggedRecord struct {
	msg   string
	attrs map[string]string
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{mu: &sync.Mutex{}, records: &[]loggedRecord{}}
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	rec := loggedRecord{msg: r.Message, attrs: map[string]string{}}
	var add func(prefix string, a slog.Attr)
	add = func(prefix string, a slog.Attr) {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			for _, g := range v.Group() {
				add(prefix+a.Key+".", g)
			}
			return
		}
		rec.attrs[prefix+a.Key] = v.String()
	}
	for _, a := range h.attrs {
		add("", a)
	}
	r.Attrs(func(a slog.Attr) bool { add(h.group, a); return true })
	h.mu.Lock()
	*h.records = append(*h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *recordingHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group += name + "."
	return &c
}

func (h *recordingHandler) all() []loggedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]loggedRecord(nil), *h.records...)
}

// TestStreamsBulkEndsAndAuditFiltersLeakNoSecret runs every v1.1 route and its error paths — the
// event stream (resumed, refused, ended by logout), ending chosen sessions
// and one person's, the audit filters — beside sign-ins that carry a
// password, a TOTP code and a device secret, and fails if any log record's
// message or attribute, or any error answer, holds a token, a password, the
// TOTP secret or code, or a device secret. TestAuditAndNoSecretsInLogs
// covers the v1 routes through the text output; this one looks at the
// records themselves, so a secret cannot hide in an attribute the text
// format would quote or escape.
func TestStreamsBulkEndsAndAuditFiltersLeakNoSecret(t *testing.T) {
	rec := newRecordingHandler()
	clock := newFakeClock()
	clock.Set(time.Now().UTC())
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, Logger: slog.New(rec)})
	anon := newClient(t, p, "")

	admin := p.Login(t, "acme", "admin@acme.test")
	auditor := p.Login(t, "acme", "auditor@acme.test")
	member := p.Login(t, "acme", "member@acme.test")
	code := platformtest.MFACode(t, clock.Now())
	var mfa api.LoginResponse
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code, TrustDevice: true}).decode(t, 200, &mfa)
	if mfa.DeviceSecret == "" {
		t.Fatal("no device secret")
	}
	var again api.LoginResponse
	login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password,
		Device: api.LoginDevice{ID: mfa.Device.ID, Secret: mfa.DeviceSecret}}).decode(t, 200, &again)

	var answers []string // error answers: none may echo a secret either
	keep := func(r response) { answers = append(answers, string(r.body)) }
	const wrongPassword = "wrong-password-v11-flow"
	keep(login(anon, api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: wrongPassword}))
	keep(login(anon, api.LoginRequest{Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: "000000x"}))
	keep(anon.do("POST", api.BasePath+"/auth/login", `{"org":"acme","email":"admin@acme.test","password":["`+platformtest.Password+`"]}`))
	keep(anon.do("POST", api.BasePath+"/auth/login", `{"org":"acme","email":"admin@acme.test","password":"`+platformtest.Password+`","extra":1}`))
	keep(anon.do("POST", api.BasePath+"/auth/login", `{"org":"acme","email":"admin@acme.test","password":"`+platformtest.Password+`"`))

	adm := newClient(t, p, admin.Token)
	aud := newClient(t, p, auditor.Token)

	// Streams: one live, one refused for a bad resume token, one for a bad
	// token, one for a member without the permission.
	s := openEvents(t, p, admin.Token, "")
	first := s.next(2 * time.Second)
	_, res := tryEvents(t, p.URL(), admin.Token, "not-an-id-"+auditor.Token, nil, false)
	if res.StatusCode != 400 {
		t.Errorf("bad Last-Event-ID: %d", res.StatusCode)
	}
	_, res = tryEvents(t, p.URL(), "bogus-"+admin.Token, "", nil, false)
	if res.StatusCode != 401 {
		t.Errorf("bad token: %d", res.StatusCode)
	}
	_, res = tryEvents(t, p.URL(), member.Token, "", nil, false)
	if res.StatusCode != 403 {
		t.Errorf("member: %d", res.StatusCode)
	}

	// Ending chosen sessions (one unknown; refused to the auditor since
	// v1.2), one session (the auditor), then one person's, with reasons.
	selection := map[string]any{"ids": []string{member.Session.ID, "ses_" + strings.Repeat("a", 26)}, "reason": "v11 selected"}
	keep(aud.do("POST", api.BasePath+"/sessions/terminate", selection))
	var sel api.TerminateSelectedResponse
	adm.do("POST", api.BasePath+"/sessions/terminate", selection).decode(t, 200, &sel)
	if sel.Terminated != 1 || len(sel.NotFound) != 1 {
		t.Errorf("terminate selected = %+v", sel)
	}
	one := p.Login(t, "acme", "member@acme.test")
	aud.do("POST", api.BasePath+"/sessions/"+one.Session.ID+"/terminate", map[string]any{"reason": "v11 one"}).decode(t, 200, nil)
	var n api.TerminateAllResponse
	adm.do("POST", api.BasePath+"/users/"+mfa.User.ID+"/sessions/terminate", map[string]any{"reason": "v11 everywhere"}).decode(t, 200, &n)
	if n.Terminated < 2 {
		t.Errorf("sign out everywhere ended %d, want the two sign-ins above at least", n.Terminated)
	}

	// Audit filters.
	for _, q := range []string{
		"q=" + url.QueryEscape("v11 sel"), "actor_id=" + auditor.User.ID, "target_user_id=" + mfa.User.ID, "action=" + api.ActionUserSessionsTerminate,
	} {
		var list api.AuditList
		aud.do("GET", api.BasePath+"/audit?"+q, nil).decode(t, 200, &list)
		if len(list.Items) != 1 {
			t.Errorf("audit?%s = %d events, want 1", q, len(list.Items))
		}
	}
	keep(aud.do("GET", api.BasePath+"/audit?action="+url.QueryEscape(platformtest.Password), nil))

	// The stream saw them, then ends with its session.
	s.until(2*time.Second, func(e sseEvent) bool { return e.Event == "audit" && strings.Contains(e.Data, "v11 everywhere") })
	adm.do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
	s.until(2*time.Second, func(e sseEvent) bool { return e.Event == "session_ended" })
	// Resuming after the logout is refused.
	_, res = tryEvents(t, p.URL(), admin.Token, first.ID, nil, false)
	if res.StatusCode != 401 {
		t.Errorf("stream after logout: %d", res.StatusCode)
	}

	secrets := map[string]string{
		"admin token": admin.Token, "auditor token": auditor.Token, "member token": member.Token,
		"mfa token": mfa.Token, "second mfa token": again.Token, "password": platformtest.Password,
		"wrong password": wrongPassword, "TOTP secret": platformtest.MFASecret, "device secret": mfa.DeviceSecret,
	}
	records := rec.all()
	if len(records) < 20 {
		t.Fatalf("only %d log records: is the logger wired?", len(records))
	}
	for _, r := range records {
		for name, secret := range secrets {
			if strings.Contains(r.msg, secret) {
				t.Errorf("log message %q holds the %s", r.msg, name)
			}
			for k, v := range r.attrs {
				if strings.Contains(v, secret) {
					t.Errorf("log record %q: %s=%q holds the %s", r.msg, k, v, name)
				}
			}
		}
		for k, v := range r.attrs {
			// A 6-digit code may occur inside an ID by chance; as a
			// value of its own it is the code.
			if v == code || strings.Contains(v, `"`+code+`"`) || strings.Contains(v, "="+code) {
				t.Errorf("log record %q: %s=%q holds the TOTP code", r.msg, k, v)
			}
		}
	}
	for _, a := range answers {
		if !strings.Contains(a, `"error"`) {
			t.Errorf("not an error answer: %s", a)
		}
		for name, secret := range secrets {
			if strings.Contains(a, secret) {
				t.Errorf("error answer %s holds the %s", a, name)
			}
		}
	}
}
