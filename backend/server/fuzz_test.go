package server

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// FuzzDecodeLogin: any body either decodes or is a 400 invalid_argument;
// never a panic, never another kind of error.
func FuzzDecodeLogin(f *testing.F) {
	for _, s := range []string{
		`{"org":"acme","email":"admin@acme.test","password":"demo-password"}`,
		`{"org":"acme","email":"a","password":"b","device":{"id":"dev_aaaaaaaaaaaaaaaaaaaaaaaaaa","name":"n","platform":"p"},"totp":"123456","trust_device":true}`,
		`{"org":`, `[]`, `null`, ``, `{} {}`, `{"x":1}`, `{"device":{"x":1}}`, `{"org":1}`, `"\ud800"`,
		`{"password":"` + strings.Repeat("a", 1000) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.LoginRequest
		err := decodeBody(bytes.NewReader(body), &req, true)
		if err == nil {
			err = validateLogin(&req)
		}
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != api.CodeInvalidArgument {
			t.Fatalf("body %q: error %v is not invalid_argument", body, err)
		}
		if len(body) > 8 && strings.Contains(e.Message, string(body)) {
			t.Fatalf("message echoes the body: %q", e.Message)
		}
	})
}

// FuzzCursor: decoding never panics; whatever decodes re-encodes to a cursor
// that decodes to the same key.
func FuzzCursor(f *testing.F) {
	for _, k := range []store.Key{
		{At: time.Unix(0, 1764230400123456789), ID: "ses_" + strings.Repeat("a", 26)},
		{At: time.Unix(0, 0), ID: "ses_" + strings.Repeat("7", 26)},
	} {
		f.Add(cursorSessions, *encodeCursor(cursorSessions, &k))
	}
	f.Add(cursorDevices, *encodeCursor(cursorDevices, &store.Key{At: time.Unix(5, 0), ID: "dev_" + strings.Repeat("b", 26)}))
	f.Add(cursorAudit, "")
	f.Add(cursorSessionsFeed, "djEuc2YuMS5zZXNf")
	f.Add(cursorSessions, "!!!")
	f.Add(cursorSessions, strings.Repeat("A", 300))
	f.Fuzz(func(t *testing.T, kind, c string) {
		switch kind {
		case cursorSessions, cursorSessionsFeed, cursorDevices, cursorDevicesFeed, cursorAudit:
		default:
			kind = cursorSessions
		}
		k, err := decodeCursor(kind, c)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != api.CodeInvalidArgument {
				t.Fatalf("cursor %q: error %v is not invalid_argument", c, err)
			}
			return
		}
		if k == nil {
			if c != "" {
				t.Fatalf("cursor %q decoded to nothing", c)
			}
			return
		}
		again, err := decodeCursor(kind, *encodeCursor(kind, k))
		if err != nil || !again.At.Equal(k.At) || again.ID != k.ID {
			t.Fatalf("cursor %q: round trip %+v → %+v, %v", c, k, again, err)
		}
	})
}
