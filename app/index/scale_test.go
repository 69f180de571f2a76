package index_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/useragent"
)

// The scale benchmarks hold organizations shaped like backend/seed's large
// one (sessions of 20 each per person, a handful of browsers and places,
// documentation-range IPs) at 100,000 and 1,000,000 sessions. Run them one
// size at a time: -bench 'Scale.*/100k' needs ~1 GB, /1M ~3 GB.

// The pools are backend/seed's, so that the rows look like the platform's.
var (
	scaleAgents = seed.UserAgents()
	scalePlaces = seed.Locations()
	scaleFirst  = seed.FirstNames()
	scaleLast   = seed.LastNames()
	scaleSizes  = []struct {
		name                      string
		sessions, devices, people int
	}{{"100k", 100_000, 20_000, 5_000}, {"1M", 1_000_000, 200_000, 50_000}}
	scaleSink      any // keeps a benchmark's tables live for -memprofile
	sharedOrUnique = []bool{true, false}
)

// scaleClients are the platform's labels of the agents ("Firefox 133 on
// Windows").
func scaleClients() []string {
	out := make([]string, len(scaleAgents))
	for i, a := range scaleAgents {
		out[i] = useragent.Parse(a).Label()
	}
	return out
}

// own returns s as the decoder without interning gives it: its own copy.
func own(s string, shared bool) string {
	if shared {
		return s
	}
	return strings.Clone(s)
}

func scalePeople(n int) []domain.Person {
	out := make([]domain.Person, n)
	for i := range out {
		out[i] = domain.Person{ID: fmt.Sprintf("usr_%022d", i), Email: fmt.Sprintf("user%06d@bigcorp.test", i),
			Name: scaleFirst[i%len(scaleFirst)] + " " + scaleLast[i/len(scaleFirst)%len(scaleLast)]}
	}
	return out
}

// person is people's i-th row's person: shared, or its own copy.
func person(people []domain.Person, i int, shared bool) domain.Person {
	p := people[i%len(people)]
	if !shared {
		p = domain.Person{ID: own(p.ID, false), Email: own(p.Email, false), Name: own(p.Name, false)}
	}
	return p
}

// scaleSessions is n sessions of people (each ~n/len(people)). shared:
// people's, browsers' and places' strings are shared between rows, as an
// interning decoder leaves them; otherwise every row holds its own copies.
func scaleSessions(n int, people []domain.Person, shared bool, now time.Time) []domain.Session {
	r := rand.New(rand.NewPCG(3, 4))
	clients := scaleClients()
	out := make([]domain.Session, n)
	for i := range out {
		p := person(people, i, shared)
		dev := fmt.Sprintf("dev_%022d", (i%len(people))*4+r.IntN(4))
		ua := r.IntN(len(scaleAgents))
		created := now.Add(-time.Duration(r.IntN(6*24*3600)) * time.Second)
		st := domain.StatusActive
		if r.IntN(10) == 0 {
			st = domain.StatusTerminated
		}
		out[i] = domain.Session{ID: fmt.Sprintf("ses_%022d", i), User: p, DeviceID: &dev, IP: seed.IP(r),
			UserAgent: own(scaleAgents[ua], shared), Client: own(clients[ua], shared), Location: own(scalePlaces[r.IntN(len(scalePlaces))], shared),
			CreatedAt: created, LastActiveAt: created.Add(time.Duration(r.IntN(3600)) * time.Second),
			ExpiresAt: now.Add(time.Duration(r.IntN(48)-4) * time.Hour), UpdatedAt: created, Status: own(st, shared), MFA: r.IntN(3) != 0}
	}
	return out
}

func scaleDevices(m int, people []domain.Person, shared bool, now time.Time) []domain.Device {
	r := rand.New(rand.NewPCG(5, 6))
	clients := scaleClients()
	out := make([]domain.Device, m)
	for i := range out {
		p := person(people, i, shared)
		ua := r.IntN(len(scaleAgents))
		first := now.Add(-time.Duration(r.IntN(30*24*3600)) * time.Second)
		out[i] = domain.Device{ID: fmt.Sprintf("dev_%022d", i), User: p, Name: own(clients[ua], shared),
			Platform: own(index.ClientPlatform(clients[ua]), shared), Trusted: r.IntN(4) == 0,
			FirstSeenAt: first, LastSeenAt: first.Add(time.Hour), LastIP: seed.IP(r), UpdatedAt: first}
	}
	return out
}

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
					people := scalePeople(sz.people)
					ses := scaleSessions(sz.sessions, people, shared, now)
					dev := scaleDevices(sz.devices, people, shared, now)
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
			people := scalePeople(sz.people)
			st := index.NewSessions()
			st.Adopt(scaleSessions(sz.sessions, people, true, now))
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
			people := scalePeople(sz.people)
			rows := scaleSessions(sz.sessions, people, true, now)
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
