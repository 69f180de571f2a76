package server

import (
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"sessiondesk/backend/api"
)

// setSafetyHeaders marks every answer as JSON that must not be sniffed into
// something else (a browser that loads an API URL must not render it as HTML)
// nor kept in any cache: answers carry tokens and personal data.
func setSafetyHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// hasBody reports whether the request carries a body: a positive length, or
// one not known in advance (chunked). An empty POST (logout, an action
// without a reason) has none and needs no Content-Type.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
}

// checkContentType refuses a body that is not declared as JSON. A web page
// can send a cross-site form or text/plain POST without a CORS preflight,
// but not an application/json one; requiring it keeps other sites from
// posting sign-in attempts or actions with a victim's browser. It runs
// before authentication and the handler, so a refused request changes
// nothing (not even last_active_at).
func checkContentType(r *http.Request) error {
	if !hasBody(r) {
		return nil
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "application/json" {
		ok := true
		for k, v := range params {
			if k != "charset" || !strings.EqualFold(v, "utf-8") {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	return errorf(api.CodeUnsupportedMediaType, "send the request body as JSON with Content-Type: application/json")
}

// cutUserAgent makes a client-set User-Agent safe to store and return: invalid
// UTF-8 becomes U+FFFD first (so that JSON cannot grow it afterwards), then it
// is cut to api.MaxUserAgentBytes without splitting a character. One member
// must not be able to make every admin's sync download kilobytes per session.
func cutUserAgent(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= api.MaxUserAgentBytes {
		return s
	}
	n := api.MaxUserAgentBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// The range of updated_since the contract accepts. Earlier than 1970 means
// nothing a client could have seen; later than 9999 is not RFC 3339.
var (
	minUpdatedSince = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxUpdatedSince = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)
