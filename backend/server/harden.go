package server

import (
	"mime"
	"net/http"
	"strconv"
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

// cutUserAgent makes a client-set User-Agent safe to store and return: cut
// to api.MaxUserAgentBytes (cutUTF8). One member must not be able to make
// every admin's sync download kilobytes per session.
func cutUserAgent(s string) string { return cutUTF8(s, api.MaxUserAgentBytes) }

// cutUTF8 makes a client-set string safe to keep: invalid UTF-8 becomes
// U+FFFD first (so that JSON or a log cannot grow it afterwards), then it is
// cut to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// logPath is a request's path as the log keeps it: at most
// api.MaxLoggedPathBytes of it, and a mark with the full length where it was
// cut. Anyone can send a request, and a path fills a header's worth of
// bytes: logged whole, three requests would push kilobytes of noise
// between an operator and who terminated what.
func logPath(r *http.Request) string {
	p := r.URL.Path
	if len(p) <= api.MaxLoggedPathBytes {
		return p
	}
	return cutUTF8(p, api.MaxLoggedPathBytes) + "…[cut, " + strconv.Itoa(len(p)) + " bytes]"
}

// logMethod is a request's method as the log keeps it: any token is a valid
// method, as long as the header limit allows. Real ones are short.
func logMethod(r *http.Request) string {
	const max = 16
	if len(r.Method) <= max {
		return r.Method
	}
	return cutUTF8(r.Method, max) + "…"
}

// checkHeaderSize refuses a request whose request line and headers exceed
// api.MaxHeaderBytes with 431 in JSON. The http.Server's own limit
// (platformd sets it to HTTPServerMaxHeaderBytes) is higher, so that the
// requests between the two get this JSON answer; above it the server
// answers 431 itself, in plain text, without reading them. The size is
// counted as HTTP/1.1 sends it (method, target, protocol, each header as
// "Name: value" with CRLF), so it means the same over HTTP/2.
func checkHeaderSize(r *http.Request) error {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	if n+2 > api.MaxHeaderBytes {
		return errorf(api.CodeHeadersTooLarge, "the request's headers are larger than %d KiB", api.MaxHeaderBytes>>10)
	}
	return nil
}

// HTTPServerMaxHeaderBytes is the http.Server.MaxHeaderBytes a server of
// this handler should set: above api.MaxHeaderBytes, so that the handler
// answers those requests with a JSON 431 (checkHeaderSize); Go allows 4 KiB
// more than this before it answers 431 in plain text.
const HTTPServerMaxHeaderBytes = 2 * api.MaxHeaderBytes

// The range of updated_since the contract accepts. Earlier than 1970 means
// nothing a client could have seen; later than 9999 is not RFC 3339.
var (
	minUpdatedSince = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxUpdatedSince = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)
