package overview_test

import (
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/overview"
)

func TestCompute(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	ses := func(created time.Time, status string, expires time.Time, mfa bool, client, loc string) domain.Session {
		return domain.Session{CreatedAt: created, Status: status, ExpiresAt: expires, MFA: mfa, Client: client, Location: loc}
	}
	later := now.Add(time.Hour)
	sessions := []domain.Session{
		ses(now.Add(-10*time.Minute), domain.StatusActive, later, true, "Firefox 133 on Windows", "Berlin, DE"),
		ses(now.Add(-70*time.Minute), domain.StatusActive, later, false, "Chrome 131 on Windows", "Munich, DE"),
		ses(now.Add(-2*time.Hour), domain.StatusActive, later, false, "Safari on iOS", "Austin, US"),
		ses(now.Add(-3*time.Hour), domain.StatusActive, now.Add(-time.Minute), false, "Safari on iOS", "Austin, US"), // expired by time
		ses(now.Add(-4*time.Hour), domain.StatusTerminated, later, false, "Edge 131 on Windows", ""),
		ses(now.Add(-8*24*time.Hour), domain.StatusActive, later, true, "Unknown client", ""), // before the chart
	}
	devices := []domain.Device{
		{FirstSeenAt: now.Add(-time.Hour)},
		{FirstSeenAt: now.Add(-25 * time.Hour)},
		{FirstSeenAt: now.Add(-8 * 24 * time.Hour)},
	}
	st, dt := tables(sessions, devices)
	o := overview.Compute(st.Tallies(), dt.Tallies(), now)
	if o.ActiveSessions != 4 || o.WithoutMFA != 2 || o.ShareWithoutMFA != 0.5 {
		t.Errorf("active %d without MFA %d share %v", o.ActiveSessions, o.WithoutMFA, o.ShareWithoutMFA)
	}
	if o.NewDevices24h != 1 || o.NewDevices7d != 2 {
		t.Errorf("new devices %d / %d", o.NewDevices24h, o.NewDevices7d)
	}
	if len(o.SignIns) != overview.Hours || !o.SignIns[overview.Hours-1].Start.Equal(now.Truncate(time.Hour)) {
		t.Fatalf("sign-in buckets %d, last starts %v", len(o.SignIns), o.SignIns[len(o.SignIns)-1].Start)
	}
	total := 0
	for _, h := range o.SignIns {
		total += h.Count
	}
	last := func(k int) int { return o.SignIns[overview.Hours-1-k].Count }
	if total != 5 || last(0) != 1 || last(1) != 1 || last(2) != 1 || last(3) != 1 || last(4) != 1 {
		t.Errorf("sign-ins total %d, last hours %d %d %d %d %d", total, last(0), last(1), last(2), last(3), last(4))
	}
	want := func(got []overview.KeyCount, w string) {
		t.Helper()
		if fmt.Sprint(got) != w {
			t.Errorf("got %v, want %s", got, w)
		}
	}
	want(o.ByCountry, "[{DE 2} { 1} {US 1}]")
	want(o.ByPlatform, "[{Windows 2} { 1} {iOS 1}]")
}

// A large table's tallies come as several walks, run at once: what they
// count together is what one walk over the same rows counts.
func TestComputeInPartsCountsAsOneWalk(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	now := time.Now()
	st, dt := tables(overview.Sample(250_000, 50_000, now))
	parts := st.Tallies()
	if len(parts.Parts) < 2 {
		t.Fatalf("%d walk(s) of 250,000 sessions on 4 cores, want several", len(parts.Parts))
	}
	one := func(walks index.Walks) index.Walks {
		all := walks
		all.Parts = []iter.Seq2[index.Key, index.Tally]{func(yield func(index.Key, index.Tally) bool) {
			for _, w := range walks.Parts {
				for f, x := range w {
					if !yield(f, x) {
						return
					}
				}
			}
		}}
		return all
	}
	got := overview.Compute(parts, dt.Tallies(), now)
	want := overview.Compute(one(parts), one(dt.Tallies()), now)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("in parts: %+v\none walk: %+v", got, want)
	}
	if got.ActiveSessions == 0 || got.NewDevices7d == 0 {
		t.Errorf("nothing counted: %+v", got)
	}
}

// BenchmarkCompute measures the overview of 100,000 sessions and 20,000
// devices (the budget was 50 ms) and of 1,000,000 and 200,000
// (budget 100 ms).
func BenchmarkCompute(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			now := time.Now()
			st, dt := tables(overview.Sample(n, n/5, now))
			b.ResetTimer()
			for b.Loop() {
				overview.Compute(st.Tallies(), dt.Tallies(), now)
			}
		})
	}
}

// tables are the app's index tables of sessions and devices: the overview
// reads what they keep of each row.
func tables(sessions []domain.Session, devices []domain.Device) (*index.Table[domain.Session], *index.Table[domain.Device]) {
	st, dt := index.NewSessions(), index.NewDevices()
	st.Replace(sessions)
	dt.Replace(devices)
	return st, dt
}
