package server

import (
	"testing"
)

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                  "192.0.2.7",
		"::ffff:192.0.2.7":           "192.0.2.7",
		"::ffff:c000:207":            "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":       "2001:db8:1:2::/64",
		"2001:DB8:1:2::1":            "2001:db8:1:2::/64",
		"fe80::1%eth0":               "fe80::/64",
		"::1":                        "::/64",
		"not an ip":                  "not an ip",
		"2001:db8:1:3:ffff:ffff::ff": "2001:db8:1:3::/64",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// The reservation rules themselves (atomic reserve, settling, clearing on
// success) are store rules: backend/store/storetest checks them on every store.
