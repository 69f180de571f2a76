package index_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/scaledata"
)

// The scale benchmarks hold organizations shaped like backend/seed's large
// one (sessions of 20 each per person, a handful of browsers and places,
// documentation-range IPs) at 100,000 and 1,000,000 sessions. Run them one
// size at a time: -bench 'Scale.*/100k' needs ~1 GB, /1M ~3 GB.

var (
	scaleSizes = []struct {
		name                      string
		sessions, devices, people int
	}{{"100k", 100_000, 20_000, 5_000}, {"1M", 1_000_000, 200_000, 50_000}}
	scaleSink      any // keeps a benchmark's tables live for -memprofile
	sharedOrUnique = []bool{true, false}
)

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkScaleMemory reports the live heap per row: the rows as decoded
// (domain values), and the tables holding them (packed rows, search text,
// labels, facets, ids, the default and the "user" sort orders) once the
// decoded rows are dropped. One iteration is the measurement.
func BenchmarkScaleMemory(b *testing.B) {
	for _, sz := range scaleSizes {
		for _, shared := range sharedOrUnique {
			b.Run(fmt.Sprintf("%s/shared=%v", sz.name, shared), func(b *testing.B) {
				scaleSink = nil
				now := time.Now()
				for b.Loop() {
					base := liveHeap()
					people := scaledata.People(sz.people)
					ses := scaledata.Sessions(sz.sessions, people, shared, now)
					dev := scaledata.Devices(sz.devices, people, shared, now)
					rows := liveHeap()
					st, dt := index.NewSessions(), index.NewDevices()
					st.Adopt(ses)
					dt.Adopt(dev)
					ses, dev = nil, nil // packed: the tables keep none of them
					st.Warm(index.DefaultSessionSort)
					st.Warm("user")
					dt.Warm(index.DefaultDeviceSort)
					tables := liveHeap()
					n := float64(sz.sessions + sz.devices)
					b.ReportMetric(float64(rows-base)/n, "rowB/row")
					b.ReportMetric(float64(tables-base)/n, "tableB/row")
					b.ReportMetric(float64(tables-base)/(1<<20), "liveMiB")
					scaleSink = []any{st, dt}
				}
			})
		}
	}
}

// BenchmarkScaleFind times a new search string per keystroke (as sdbench:
// a person's e-mail prefix, active sessions, by user), then the same
// keystrokes typed one character at a time, and reports p50/p99.
func BenchmarkScaleFind(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			now := time.Now()
			people := scaledata.People(sz.people)
			st := index.NewSessions()
			st.Adopt(scaledata.Sessions(sz.sessions, people, true, now))
			st.Warm(index.DefaultSessionSort)
			st.Warm("user")
			nowN := now.UnixNano()
			active := func(f index.Key) bool { return index.ActiveFacet(f, nowN) }
			r := rand.New(rand.NewPCG(7, 8))
			var fresh, typed []time.Duration
			for b.Loop() {
				who := fmt.Sprintf("user%06d", r.IntN(sz.people))
				q := index.Query[domain.Session]{Search: who[:4+r.IntN(6)] + fmt.Sprint(r.IntN(10)), Sort: "user", Limit: 100, FilterKey: "active", KeepFacet: active}
				start := time.Now()
				st.Find(q, index.DefaultSessionSort)
				fresh = append(fresh, time.Since(start))
				for k := 1; k <= len(who); k++ { // typing the e-mail: each keystroke extends the last
					q.Search = who[:k]
					start := time.Now()
					st.Find(q, index.DefaultSessionSort)
					typed = append(typed, time.Since(start))
				}
			}
			report(b, "fresh", fresh)
			report(b, "typed", typed)
		})
	}
}

func report(b *testing.B, name string, d []time.Duration) {
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

// BenchmarkScaleUpsert times a delta of 100 changed sessions (and 10 new)
// into a loaded table, and the first sort by a key never used before.
func BenchmarkScaleUpsert(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			now := time.Now()
			people := scaledata.People(sz.people)
			rows := scaledata.Sessions(sz.sessions, people, true, now)
			st := index.NewSessions()
			st.Replace(rows)
			st.Warm(index.DefaultSessionSort)
			start := time.Now()
			st.Warm("client")
			b.Logf("%s: first sort by client: %v", sz.name, time.Since(start))
			st.Find(index.Query[domain.Session]{Sort: "user", Limit: 100}, "") // the UI has used it
			next := sz.sessions
			var ups, finds []time.Duration
			for b.Loop() {
				delta := make([]domain.Session, 0, 110)
				for k := 0; k < 100; k++ {
					s := rows[(k*7919+next)%len(rows)]
					s.LastActiveAt = s.LastActiveAt.Add(time.Minute)
					delta = append(delta, s)
				}
				for k := 0; k < 10; k++ {
					s := rows[k]
					s.ID = fmt.Sprintf("ses_%022d", next)
					next++
					delta = append(delta, s)
				}
				start := time.Now()
				st.Upsert(delta)
				ups = append(ups, time.Since(start))
				start = time.Now() // the keystroke right after a sync
				st.Find(index.Query[domain.Session]{Search: fmt.Sprint(next), Sort: "user", Limit: 100}, "")
				finds = append(finds, time.Since(start))
			}
			report(b, "upsert", ups)
			report(b, "findAfter", finds)
			if os.Getenv("SCALE_KEEP") != "" {
				scaleSink = st
			}
		})
	}
}
