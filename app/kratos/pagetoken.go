package kratos

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// pageToken is what Kratos v1.3's session page token holds: the last
// session's id and created_at, as base64 (no padding) of
// "id=<uuid>/created_at=<2006-01-02 15:04:05.99999>" (ory/x
// keysetpagination.MapPageToken; the key order varies).
type pageToken struct {
	id        string
	createdAt time.Time
}

// kratosTokenTime is Kratos' x.MapPaginationDateFormat: 10 µs at most,
// trailing zeros dropped, no time zone.
const kratosTokenTime = "2006-01-02 15:04:05.99999"

// nilUUID sorts before every session id, so a token with it starts at the
// first session of its created_at.
const nilUUID = "00000000-0000-0000-0000-000000000000"

// parsePageToken reads a Kratos v1.3 session page token; false for any
// other format (another Kratos version, Ory Network), which is then sent
// on unchanged.
func parsePageToken(s string) (pageToken, bool) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, false
	}
	var t pageToken
	var at string
	for _, part := range strings.Split(string(b), "/") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "id":
			t.id = v
		case "created_at":
			at = v
		}
	}
	if !isUUID(t.id) || at == "" {
		return pageToken{}, false
	}
	if t.createdAt, err = time.Parse(kratosTokenTime, at); err != nil {
		return pageToken{}, false
	}
	return t, true
}

// bucketTop is a token for "every session from the top of t's 10 µs on":
// created_at a nanosecond short of the next 10 µs, id below all.
// Kratos asks for created_at < token (or equal with a greater id). SQLite
// compares the stored text ("… 15:04:05.123456+00:00") with the token's:
// "+" and "-" sort below digits, so a stored fraction compares as if padded
// with zeros, and every stored value of the 10 µs is below "….123459999".
// PostgreSQL and MySQL read it as a time, rounded to the microsecond:
// ".123460", again above the whole 10 µs. Sessions of a later 10 µs (above
// the token) are on earlier pages and are not asked for again.
func (t pageToken) bucketTop() string {
	top := t.createdAt.Format("2006-01-02 15:04:05.00000") + "9999"
	return base64.RawStdEncoding.EncodeToString([]byte("id=" + nilUUID + "/created_at=" + top))
}

// nextPageToken finds the page_token of the rel="next" link among Link
// header values (`<url>; rel="first",<url>; rel="next"`); "" when there is
// none (the last page).
func nextPageToken(links []string) string {
	for _, h := range links {
		for _, link := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(link, ";")
			if !ok {
				continue
			}
			rel := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					rel = true
				}
			}
			if !rel {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err != nil {
				continue
			}
			return u.Query().Get("page_token")
		}
	}
	return ""
}
