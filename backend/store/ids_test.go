package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Session IDs sort (byte-wise, as both stores compare them) in the order
// the sessions began, down to the millisecond, and stay valid, distinct
// IDs of their kind.
func TestSessionIDsSortByCreation(t *testing.T) {
	base := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	// Steps that carry into every base32 digit of the time, and times
	// around the clamps.
	var times []time.Time
	for _, step := range []time.Duration{time.Millisecond, 31 * time.Millisecond, 32 * time.Millisecond,
		time.Second, 1023 * time.Millisecond, time.Hour, 24 * time.Hour, 400 * 24 * time.Hour} {
		for i := range 40 {
			times = append(times, base.Add(time.Duration(i)*step))
		}
	}
	times = append(times, time.Unix(0, 0), time.Unix(0, 1e6), time.UnixMilli(1<<48-2), time.UnixMilli(1<<48-1))
	slices.SortFunc(times, time.Time.Compare)
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() })

	ids := make([]string, len(times))
	for i, at := range times {
		ids[i] = NewSessionID(at)
		if !ValidID(PrefixSession, ids[i]) {
			t.Fatalf("NewSessionID(%v) = %q, not a valid session ID", at, ids[i])
		}
	}
	for i := 1; i < len(ids); i++ {
		if strings.Compare(ids[i-1], ids[i]) >= 0 {
			t.Fatalf("a session begun at %v has ID %q, not after %q of %v", times[i], ids[i], ids[i-1], times[i-1])
		}
	}

	// The same millisecond: the random bits tell them apart.
	seen := map[string]bool{}
	for range 1000 {
		id := NewSessionID(base)
		if seen[id] {
			t.Fatalf("NewSessionID gave %q twice", id)
		}
		seen[id] = true
	}
	// Before 1970 and past 2^48 ms the time is clamped, never wrapped.
	if a, b := NewSessionID(time.Unix(-5, 0)), NewSessionID(time.Unix(0, 0)); a[:13] != b[:13] {
		t.Errorf("before 1970: %q, want the time part of %q", a, b)
	}
	if a, b := NewSessionID(time.UnixMilli(1<<48+5)), NewSessionID(time.UnixMilli(1<<48-1)); a[:13] != b[:13] {
		t.Errorf("past 2^48 ms: %q, want the time part of %q", a, b)
	}
}
