package kratos

import (
	"encoding/base64"
	"testing"
	"time"
)

// Kratos v1.3's page token, in both key orders (a Go map's), and the token
// made from it: the top of the same 10 µs, below every id.
func TestPageTokenBucketTop(t *testing.T) {
	const id = "a1665099-a516-48c3-bfd0-431d977c7769"
	for _, raw := range []string{
		"created_at=2026-12-04 17:10:41.39519/id=" + id,
		"id=" + id + "/created_at=2026-12-04 17:10:41.39519",
	} {
		tok, ok := parsePageToken(base64.RawStdEncoding.EncodeToString([]byte(raw)))
		if !ok {
			t.Fatalf("%q: not read as a Kratos token", raw)
		}
		if want := time.Date(2026, 12, 4, 17, 10, 41, 395190000, time.UTC); tok.id != id || !tok.createdAt.Equal(want) {
			t.Fatalf("%q: read %+v", raw, tok)
		}
		top, _ := base64.RawStdEncoding.DecodeString(tok.bucketTop())
		if want := "id=00000000-0000-0000-0000-000000000000/created_at=2026-12-04 17:10:41.395199999"; string(top) != want {
			t.Fatalf("bucket top %q, want %q", top, want)
		}
	}
	// Kratos drops trailing zeros (".12" is .120000): the top is still the
	// end of those 10 µs, not of the 10 ms ".12" might look like.
	tok, _ := parsePageToken(base64.RawStdEncoding.EncodeToString([]byte("id=" + id + "/created_at=2026-12-04 17:10:41.12")))
	if top, _ := base64.RawStdEncoding.DecodeString(tok.bucketTop()); string(top) != "id=00000000-0000-0000-0000-000000000000/created_at=2026-12-04 17:10:41.120009999" {
		t.Fatalf("bucket top of .12: %q", top)
	}
	for _, other := range []string{"", "not base64!", base64.RawStdEncoding.EncodeToString([]byte("id=x/created_at=2026-12-04 17:10:41")), "Zm9v"} {
		if _, ok := parsePageToken(other); ok {
			t.Errorf("%q read as a Kratos v1.3 token", other)
		}
	}
}

func TestNextPageTokenFromLink(t *testing.T) {
	first := `</admin/sessions?page_size=4&page_token=Zmlyc3Q>; rel="first"`
	next := `</admin/sessions?expand=identity&page_size=4&page_token=bmV4dA>; rel="next"`
	for _, tc := range []struct {
		links []string
		want  string
	}{
		{[]string{first + "," + next}, "bmV4dA"},
		{[]string{first, next}, "bmV4dA"},
		{[]string{first}, ""},
		{nil, ""},
		{[]string{`<%zz>; rel="next"`}, ""},
	} {
		if got := nextPageToken(tc.links); got != tc.want {
			t.Errorf("nextPageToken(%q) = %q, want %q", tc.links, got, tc.want)
		}
	}
}
