// Package overview computes the Overview tab's picture of an organization
// from the cached sessions and devices: active sessions, the share without
// MFA, new devices, sign-ins per hour over a week, and sessions by country
// and by platform.
//
// It runs on the app's Go side over the rows the in-memory index already
// holds, so it works offline and costs one pass over each table (well under
// 50 ms at 100,000 sessions; see BenchmarkCompute and the sdbench row). It
// never asks the platform.
package overview

import (
	"cmp"
	"iter"
	"slices"
	"time"

	"sessiondesk/app/index"
)

// Hours is the span of the sign-ins chart: the last 7 days, hour by hour.
const Hours = 7 * 24

// Overview is the picture at At.
type Overview struct {
	At             time.Time `json:"at"`
	ActiveSessions int       `json:"activeSessions"`
	// WithoutMFA counts active sessions whose sign-in passed no second
	// factor; ShareWithoutMFA is it over ActiveSessions (0 when none).
	WithoutMFA      int     `json:"withoutMfa"`
	ShareWithoutMFA float64 `json:"shareWithoutMfa"`
	NewDevices24h   int     `json:"newDevices24h"`
	NewDevices7d    int     `json:"newDevices7d"`
	// SignIns has Hours buckets, oldest first; the last is the current
	// (partial) hour. A sign-in is a session created in that hour, of any
	// status now.
	SignIns []HourCount `json:"signIns"`
	// ByCountry and ByPlatform count active sessions, largest first (ties by
	// key). Key "" is sessions whose country or platform is unknown.
	ByCountry  []KeyCount `json:"byCountry"`
	ByPlatform []KeyCount `json:"byPlatform"`
}

// HourCount is one hour's bucket.
type HourCount struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// KeyCount is one bar of a grouped chart.
type KeyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Compute builds the overview at now from the tables' facets and tallies
// (index.Table.Tallies; kinds.go names what a session's and a device's
// hold): it decodes no row.
func Compute(sessions, devices iter.Seq2[index.Key, index.Tally], now time.Time) Overview {
	now = now.UTC()
	o := Overview{At: now, SignIns: make([]HourCount, Hours)}
	first := now.Truncate(time.Hour).Add(-(Hours - 1) * time.Hour)
	for i := range o.SignIns {
		o.SignIns[i].Start = first.Add(time.Duration(i) * time.Hour)
	}
	firstNano, nowNano := first.UnixNano(), now.UnixNano()
	// Labels repeat across many rows: count by label, split each distinct
	// label once.
	byLocation := map[string]int{}
	byClient := map[string]int{}
	for f, s := range sessions {
		// "now" may come from the platform's Date header (whole seconds), so
		// a sign-in of this very moment can look a little in the future: it
		// belongs to the current hour.
		if c := s.At; c >= firstNano {
			o.SignIns[min((c-firstNano)/int64(time.Hour), Hours-1)].Count++
		}
		if !index.ActiveFacet(f, nowNano) {
			continue
		}
		o.ActiveSessions++
		if !s.Flag {
			o.WithoutMFA++
		}
		byLocation[s.B]++
		byClient[s.A]++
	}
	if o.ActiveSessions > 0 {
		o.ShareWithoutMFA = float64(o.WithoutMFA) / float64(o.ActiveSessions)
	}
	o.ByCountry = group(byLocation, index.Country)
	o.ByPlatform = group(byClient, index.ClientPlatform)
	day, week := now.Add(-24*time.Hour).UnixNano(), now.Add(-7*24*time.Hour).UnixNano()
	for _, d := range devices {
		if f := d.At; f > week { // a device of this very second may look future; see above
			o.NewDevices7d++
			if f > day {
				o.NewDevices24h++
			}
		}
	}
	return o
}

func group(counts map[string]int, key func(string) string) []KeyCount {
	sum := map[string]int{}
	for label, n := range counts {
		sum[key(label)] += n
	}
	out := make([]KeyCount, 0, len(sum))
	for k, n := range sum {
		out = append(out, KeyCount{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b KeyCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}
