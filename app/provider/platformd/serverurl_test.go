package platformd_test

import (
	"strings"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
)

// Plain http would carry the password and the token in clear text: it is
// accepted only for a platform on this computer.
func TestParseServerURLRequiresHTTPSForRemoteHosts(t *testing.T) {
	ok := map[string]string{
		"https://platform.acme.test":        "https://platform.acme.test",
		"https://platform.acme.test:8443/":  "https://platform.acme.test:8443",
		"https://203.0.113.7/base/":         "https://203.0.113.7/base",
		"http://localhost:8080":             "http://localhost:8080",
		"http://LOCALHOST":                  "http://LOCALHOST",
		"http://127.0.0.1:4000":             "http://127.0.0.1:4000",
		"http://127.8.9.10":                 "http://127.8.9.10",
		"http://[::1]:4000/":                "http://[::1]:4000",
		"  https://platform.acme.test/  ":   "https://platform.acme.test",
		"http://[::ffff:127.0.0.1]:9":       "http://[::ffff:127.0.0.1]:9",
		"https://localhost.acme.test:9/api": "https://localhost.acme.test:9/api",
	}
	for in, want := range ok {
		u, err := httpx.ParseServerURL(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if u.String() != want {
			t.Errorf("%q → %q, want %q", in, u.String(), want)
		}
	}
	for _, in := range []string{
		"http://platform.acme.test",
		"http://203.0.113.7:8080",
		"http://10.0.0.1",
		"http://[2001:db8::1]:80",
		"http://localhost.acme.test",
		"http://128.0.0.1",
		"http://0.0.0.0:8080",
	} {
		_, err := httpx.ParseServerURL(in)
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if domain.KindOf(err) != api.CodeInvalidArgument || !strings.Contains(desk.UserError(err).Message, "https://") {
			t.Errorf("%q: %v", in, err)
		}
		if _, err := platformd.New(in, httpx.Options{}); err == nil {
			t.Errorf("New(%q) accepted", in)
		}
	}
	for _, in := range []string{"", "platform.acme.test", "ftp://platform.acme.test", "https://", "https://u:p@platform.acme.test", "https://platform.acme.test/?q=1"} {
		if _, err := httpx.ParseServerURL(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
