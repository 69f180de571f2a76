package index_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

func gen(n int, now time.Time) []domain.Session {
	r := rand.New(rand.NewPCG(1, 2))
	clients := []string{"Firefox 133 on Windows", "Chrome 131 on macOS", "Safari 18 on iOS"}
	out := make([]domain.Session, n)
	for i := range out {
		st := domain.StatusActive
		if r.IntN(5) == 0 {
			st = domain.StatusTerminated
		}
		exp := now.Add(time.Hour)
		if r.IntN(10) == 0 {
			exp = now.Add(-time.Minute) // expired but still "active" in the feed
		}
		out[i] = domain.Session{ID: fmt.Sprintf("s%05d", i), User: domain.Person{Email: fmt.Sprintf("u%03d@acme.test", r.IntN(300)), Name: "Name"},
			IP: fmt.Sprintf("%d.%d.0.1", r.IntN(250)+1, r.IntN(250)), Client: clients[r.IntN(3)],
			LastActiveAt: now.Add(-time.Duration(r.IntN(100000)) * time.Second), ExpiresAt: exp, Status: st}
	}
	return out
}

// naive is the obvious answer the index must agree with.
func naive(rows []domain.Session, search string, active bool, now time.Time, less func(a, b domain.Session) int) []domain.Session {
	var out []domain.Session
	for _, s := range rows {
		hay := strings.ToLower(s.User.Email + "\n" + s.User.Name + "\n" + s.IP + "\n" + s.Client + "\n" + s.Location)
		if search != "" && !strings.Contains(hay, strings.ToLower(search)) {
			continue
		}
		if active && index.EffectiveStatus(&s, now) != domain.StatusActive {
			continue
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b domain.Session) int {
		if c := less(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func TestFindAgreesWithNaive(t *testing.T) {
	now := time.Now()
	rows := gen(5000, now)
	tb := index.NewSessions()
	tb.Replace(rows)
	nowN := now.UnixNano()
	byLast := func(a, b domain.Session) int { return a.LastActiveAt.Compare(b.LastActiveAt) }
	byUser := func(a, b domain.Session) int { return strings.Compare(a.User.Email, b.User.Email) }
	for _, tc := range []struct {
		search string
		active bool
		sort   string
		less   func(a, b domain.Session) int
		desc   bool
	}{
		{"", false, "last_active_at", byLast, false},
		{"", true, "last_active_at", byLast, true},
		{"U01", true, "user", byUser, false},
		{"firefox", false, "user", byUser, true},
		{"no-such-thing", false, "user", byUser, false},
	} {
		want := naive(rows, tc.search, tc.active, now, tc.less)
		if tc.desc {
			slices.Reverse(want)
		}
		q := index.Query[domain.Session]{Search: tc.search, Sort: tc.sort, Desc: tc.desc, FilterKey: fmt.Sprint(tc.active), Limit: 50}
		if tc.active {
			q.KeepFacet = func(f index.Key) bool { return index.ActiveFacet(f, nowN) }
		}
		for _, off := range []int{0, 50, len(want) - 10, len(want) + 5} {
			q.Offset = off
			res := tb.Find(q, index.DefaultSessionSort)
			if res.Total != len(want) {
				t.Fatalf("%+v: total %d, want %d", tc, res.Total, len(want))
			}
			lo, hi := min(max(off, 0), len(want)), min(max(off, 0)+50, len(want))
			got := make([]string, 0, len(res.Items))
			for _, s := range res.Items {
				got = append(got, s.ID)
			}
			exp := make([]string, 0, hi-lo)
			for _, s := range want[lo:hi] {
				exp = append(exp, s.ID)
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("%+v offset %d: window differs", tc, off)
			}
		}
		// Each walks every match in the same order, whatever the window.
		var each []string
		if err := tb.Each(q, index.DefaultSessionSort, func(s domain.Session) error { each = append(each, s.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		exp := make([]string, 0, len(want))
		for _, s := range want {
			exp = append(exp, s.ID)
		}
		if !slices.Equal(each, exp) {
			t.Fatalf("%+v: Each gave %d rows, want the %d matches in order", tc, len(each), len(exp))
		}
		// EachStored walks the same matches, each once, in the order the
		// rows were given (how the table stores them), whatever q's sort.
		var stored []string
		tb.EachStored(q, index.DefaultSessionSort, func(s *domain.Session) bool { stored = append(stored, s.ID); return true })
		match := make(map[string]bool, len(exp))
		for _, id := range exp {
			match[id] = true
		}
		var given []string
		for _, s := range rows {
			if match[s.ID] {
				given = append(given, s.ID)
			}
		}
		if !slices.Equal(stored, given) {
			t.Fatalf("%+v: EachStored gave %d rows, want the %d matches in the given order", tc, len(stored), len(given))
		}
	}
	seen := 0
	tb.EachStored(index.Query[domain.Session]{}, index.DefaultSessionSort, func(*domain.Session) bool { seen++; return false })
	if seen != 1 {
		t.Fatalf("EachStored went on for %d rows after fn said stop", seen)
	}
	stop := errors.New("stop")
	seen = 0
	if err := tb.Each(index.Query[domain.Session]{}, index.DefaultSessionSort, func(domain.Session) error { seen++; return stop }); err != stop || seen != 1 {
		t.Fatalf("Each after an error: %v with %d rows, want it to stop at the first", err, seen)
	}
	active := tb.CountFacet("a", func(f index.Key) bool { return index.ActiveFacet(f, nowN) })
	if want := len(naive(rows, "", true, now, byLast)); active != want {
		t.Fatalf("active count %d, want %d", active, want)
	}
}

func TestUpsertAndIPOrder(t *testing.T) {
	tb := index.NewSessions()
	if res := tb.Find(index.Query[domain.Session]{Search: "x", Limit: 10}, "ip"); res.Total != 0 {
		t.Fatalf("empty table found %+v", res)
	}
	tb.Replace([]domain.Session{{ID: "a", IP: "10.0.0.10"}, {ID: "b", IP: "10.0.0.9"}, {ID: "c", IP: "2001:db8::1"}})
	res := tb.Find(index.Query[domain.Session]{Sort: "ip", Limit: 10}, "ip")
	if ids := []string{res.Items[0].ID, res.Items[1].ID, res.Items[2].ID}; !slices.Equal(ids, []string{"b", "a", "c"}) {
		t.Fatalf("ip order %v (want numeric, v4 before v6)", ids)
	}
	tb.Upsert([]domain.Session{{ID: "a", IP: "10.0.0.1", Client: "Edge"}, {ID: "d", IP: "1.1.1.1"}})
	if tb.Len() != 4 {
		t.Fatalf("len %d", tb.Len())
	}
	res = tb.Find(index.Query[domain.Session]{Sort: "ip", Search: "edge", Limit: 10}, "ip")
	if res.Total != 1 || res.Items[0].ID != "a" {
		t.Fatalf("after upsert: %+v", res)
	}
}

// BenchmarkFind100k measures a fresh (unremembered) query over 100,000
// sessions: substring search, the active filter, sorted window.
func BenchmarkFind100k(b *testing.B) {
	now := time.Now()
	tb := index.NewSessions()
	tb.Replace(gen(100_000, now))
	nowN := now.UnixNano()
	start := time.Now()
	tb.Warm("user")
	b.Logf("cold sort of 100k by user: %v", time.Since(start))
	tb.Warm("last_active_at")
	qs := []index.Query[domain.Session]{
		{Search: "u01", Sort: "user", Limit: 100, FilterKey: "1", KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, nowN) }},
		{Search: "firefox", Sort: "last_active_at", Desc: true, Limit: 100, FilterKey: "2"},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tb.Find(qs[i%2], index.DefaultSessionSort)
	}
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct{ client, platform, browser string }{
		{"Firefox 133 on Windows", "Windows", "Firefox"},
		{"Sessions Desk 1.2.3 on Linux", "Linux", "Sessions Desk"},
		{"Unknown client", "", "Unknown client"},
		{"Safari on iOS", "iOS", "Safari"},
		{"", "", ""},
	} {
		if p, b := index.ClientPlatform(tc.client), index.ClientBrowser(tc.client); p != tc.platform || b != tc.browser {
			t.Errorf("%q: platform %q browser %q, want %q %q", tc.client, p, b, tc.platform, tc.browser)
		}
	}
	for loc, want := range map[string]string{"Berlin, DE": "DE", "": "", "Washington, D.C., US": "US"} {
		if got := index.Country(loc); got != want {
			t.Errorf("Country(%q) = %q, want %q", loc, got, want)
		}
	}
}

// A table large enough to be searched in parallel parts finds what the
// obvious scan finds, hits dense and sparse, at the parts' edges too.
func TestParallelSearchAgreesWithNaive(t *testing.T) {
	now := time.Now()
	rows := gen(120_000, now) // two parts on two cores
	tb := index.NewSessions()
	tb.Replace(rows)
	byID := func(a, b domain.Session) int { return 0 }
	for _, search := range []string{"acme", "u299@", "name\n", rows[0].IP, rows[60_000].ID} {
		want := naive(rows, search, false, now, byID)
		res := tb.Find(index.Query[domain.Session]{Search: search, Sort: "user", Limit: 1}, index.DefaultSessionSort)
		if res.Total != len(want) {
			t.Errorf("%q: %d rows, want %d", search, res.Total, len(want))
		}
	}
	// The filter runs in the same parts, and so does a count of facets.
	nowN := now.UnixNano()
	if got, want := tb.CountFacet("active", func(f index.Key) bool { return index.ActiveFacet(f, nowN) }), len(naive(rows, "", true, now, byID)); got != want {
		t.Errorf("CountFacet(active) = %d, want %d", got, want)
	}
	byUser := func(a, b domain.Session) int { return strings.Compare(a.User.Email, b.User.Email) }
	for _, search := range []string{"", "acme", "u29"} {
		want := naive(rows, search, true, now, byUser)
		res := tb.Find(index.Query[domain.Session]{Search: search, Sort: "user", Limit: 100, FilterKey: "active",
			KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, nowN) }}, index.DefaultSessionSort)
		if res.Total != len(want) || !slices.Equal(ids(res), rowIDs(want[:100])) {
			t.Errorf("%q, active: %d rows, want %d", search, res.Total, len(want))
		}
	}
}

// Typing a search one character at a time narrows each result from the
// last one remembered: from a broad one (kept as a bitmap) and from a
// narrow one (kept as rows in order), filtered or not, either direction.
// Every window and Each must still be what a fresh search gives.
func TestTypingAgreesWithNaive(t *testing.T) {
	now := time.Now()
	rows := gen(5000, now)
	tb := index.NewSessions()
	tb.Replace(rows)
	nowN := now.UnixNano()
	byUser := func(a, b domain.Session) int { return strings.Compare(a.User.Email, b.User.Email) }
	for _, active := range []bool{false, true} {
		for _, desc := range []bool{false, true} {
			for _, word := range []string{"u012@", "firefox"} {
				for k := 0; k <= len(word); k++ {
					want := naive(rows, word[:k], active, now, byUser)
					if desc {
						slices.Reverse(want)
					}
					q := index.Query[domain.Session]{Search: word[:k], Sort: "user", Desc: desc, FilterKey: fmt.Sprint(active), Limit: 40}
					if active {
						q.KeepFacet = func(f index.Key) bool { return index.ActiveFacet(f, nowN) }
					}
					for _, off := range []int{0, 1, len(want) / 2, len(want) - 3} {
						q.Offset = off
						res := tb.Find(q, index.DefaultSessionSort)
						lo := min(max(off, 0), len(want))
						if res.Total != len(want) || !slices.Equal(ids(res), rowIDs(want[lo:min(lo+40, len(want))])) {
							t.Fatalf("%q active=%v desc=%v offset %d: %d rows %v, want %d", word[:k], active, desc, off, res.Total, ids(res), len(want))
						}
					}
					var each []domain.Session
					tb.Each(q, index.DefaultSessionSort, func(s domain.Session) error { each = append(each, s); return nil })
					if !slices.Equal(rowIDs(each), rowIDs(want)) {
						t.Fatalf("%q active=%v desc=%v: Each gave %d rows, want the %d matches in order", word[:k], active, desc, len(each), len(want))
					}
				}
			}
		}
	}
}

func rowIDs(rows []domain.Session) []string { return ids(index.Result[domain.Session]{Items: rows}) }

// The active count follows the clock from what it kept of the next ten
// minutes (CountAfter): here 90,000 sessions expire a millisecond apart,
// ~72,000 of them active, more than it keeps (64k), so it keeps ~82 s'
// worth and counts again past it; it also counts again for an earlier
// instant and after a change.
func TestCountActiveAgreesWithNaive(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	rows := gen(100_000, now)
	for i := range rows[:90_000] {
		rows[i].ExpiresAt = now.Add(time.Duration(i) * time.Millisecond)
	}
	tb := index.NewSessions()
	tb.Replace(rows)
	count := func(at time.Time) int {
		n := 0
		for _, s := range rows {
			if s.Status == domain.StatusActive && s.ExpiresAt.After(at) {
				n++
			}
		}
		return n
	}
	check := func(after time.Duration) {
		t.Helper()
		at := now.Add(after)
		if got, want := index.CountActive(tb, at.UnixNano()), count(at); got != want {
			t.Errorf("at +%v: %d active, want %d", after, got, want)
		}
	}
	for _, after := range []time.Duration{0, time.Second, 30*time.Second + 1, 80 * time.Second, 85 * time.Second,
		89 * time.Second, 10 * time.Second, 2 * time.Minute, 9 * time.Minute, 11 * time.Minute} {
		check(after)
	}
	rows[89_999].Status = domain.StatusTerminated
	tb.Upsert(rows[89_999:90_000])
	check(11 * time.Minute)
	check(89 * time.Second)
}

// A keystroke a second later narrows the last second's result of a filter
// that only loses rows with time (active: sessions expire), judging again
// the rows due to expire by then (a broad base's due rows, 7 minutes
// later, within the 10 it notes) or all its rows (a narrow base, or 14
// minutes later): rows that expired in between must be gone, and for the
// same needle again later.
func TestTypingAcrossSecondsAgreesWithNaive(t *testing.T) {
	now := time.Now()
	rows := gen(5000, now)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range rows {
		rows[i].ExpiresAt = now.Add(time.Duration(r.IntN(100)) * time.Minute)
	}
	tb := index.NewSessions()
	tb.Replace(rows)
	byUser := func(a, b domain.Session) int { return strings.Compare(a.User.Email, b.User.Email) }
	at := now
	for _, word := range []string{"u012@", "firefox"} {
		for _, k := range []int{0, 1, 1, 2, 3, 3, 4, len(word)} {
			at = at.Add(7 * time.Minute)
			atN := at.UnixNano()
			want := naive(rows, word[:k], true, at, byUser)
			q := index.Query[domain.Session]{Search: word[:k], Sort: "user", FilterKey: "active", FilterAt: atN, Limit: 40,
				KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, atN) }}
			res := tb.Find(q, index.DefaultSessionSort)
			if res.Total != len(want) || !slices.Equal(ids(res), rowIDs(want[:min(40, len(want))])) {
				t.Fatalf("%q at +%v: %d rows %v, want %d", word[:k], at.Sub(now), res.Total, ids(res), len(want))
			}
		}
	}
}
