package server

import (
	"testing"
	"time"
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

// A success clears the account's settled failures but not the reservations
// of attempts still in flight; the IP keeps its failures.
func TestThrottleReservations(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	th := newThrottle(ThrottleConfig{AccountLimit: 3, IPLimit: 10, Window: time.Minute}, func() time.Time { return now })
	begin := func() *attempt {
		t.Helper()
		a, _, ok := th.begin("acct", "192.0.2.1")
		if !ok {
			t.Fatal("blocked too early")
		}
		return a
	}
	failed, inFlight, ok := begin(), begin(), begin()
	if _, wait, allowed := th.begin("acct", "192.0.2.1"); allowed || wait < time.Second {
		t.Fatalf("4th attempt with 3 reserved: allowed=%v wait=%v", allowed, wait)
	}
	th.end(failed, attemptFailed)
	th.end(ok, attemptSucceeded) // clears "failed", keeps "inFlight"
	if n := len(th.fails["a:acct"]); n != 1 || !th.fails["a:acct"][0].pending {
		t.Fatalf("account marks after success = %+v", th.fails["a:acct"])
	}
	if n := len(th.fails["i:192.0.2.1"]); n != 2 {
		t.Fatalf("IP marks = %d, want 2 (the failure and the one in flight)", n)
	}
	th.end(inFlight, attemptVoid)
	if _, ok := th.fails["a:acct"]; ok {
		t.Fatalf("account marks after refund = %+v", th.fails["a:acct"])
	}
	now = now.Add(time.Minute + time.Second)
	begin()
}
