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
)

// The scale benchmarks hold organizations shaped like backend/seed's large
// one (sessions of 20 each per person, a handful of browsers and places,
// documentation-range IPs) at 100,000 and 1,000,000 sessions. Run them one
// size at a time: -bench 'Scale.*/100k' needs ~1 GB, /1M ~3 GB.

var (
	scaleAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"SessionsDesk/1.0 (Linux x86_64)",
	}
	scaleClients = []string{"Firefox 133 on Windows", "Chrome 131 on Windows", "Safari 18.1 on macOS", "Firefox 133 on Linux", "Safari 18.1 on iOS", "Sessions Desk 1.0 on Linux"}
	scalePlaces  = []string{"Berlin, DE", "Lisbon, PT", "Austin, US", "Toronto, CA", "Dublin, IE", "Madrid, ES", "Warsaw, PL", "London, GB", ""}
	scaleFirst   = []string{"Amara", "Ben", "Chiara", "Dmitri", "Elif", "Farah", "Gustavo", "Hana", "Ingrid", "Joao"}
	scaleLast    = []string{"Almeida", "Becker", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova"}
	scaleSizes   = []struct {
		name                      string
		sessions, devices, people int
	}{{"100k", 100_000, 20_000, 5_000}, {"1M", 1_000_000, 200_000, 50_000}}
	scaleSink      any // keeps a benchmark's tables live for -memprofile
	sharedOrUnique = []bool{true, false}
)

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

func scaleIP(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return fmt.Sprintf("198.51.100.%d", 1+r.IntN(254))
	case 1, 2:
		return fmt.Sprintf("2001:db8:%x::%x", r.IntN(0xffff), 1+r.IntN(0xffff))
	default:
		return fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
	}
}

// scaleSessions is n sessions of people (each ~n/len(people)). shared:
// people's, browsers' and places' strings are shared between rows, as an
// interning decoder leaves them; otherwise every row holds its own copies.
func scaleSessions(n int, people []domain.Person, shared bool, now time.Time) []domain.Session {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([]domain.Session, n)
	for i := range out {
		p := people[i%len(people)]
		if !shared {
			p = domain.Person{ID: own(p.ID, false), Email: own(p.Email, false), Name: own(p.Name, false)}
		}
		dev := fmt.Sprintf("dev_%022d", (i%len(people))*4+r.IntN(4))
		ua := r.IntN(len(scaleAgents))
		created := now.Add(-time.Duration(r.IntN(6*24*3600)) * time.Second)
		st := domain.StatusActive
		if r.IntN(10) == 0 {
			st = domain.StatusTerminated
		}
		out[i] = domain.Session{ID: fmt.Sprintf("ses_%022d", i), User: p, DeviceID: &dev, IP: scaleIP(r),
			UserAgent: own(scaleAgents[ua], shared), Client: own(scaleClients[ua], shared), Location: own(scalePlaces[r.IntN(len(scalePlaces))], shared),
			CreatedAt: created, LastActiveAt: created.Add(time.Duration(r.IntN(3600)) * time.Second),
			ExpiresAt: now.Add(time.Duration(r.IntN(48)-4) * time.Hour), UpdatedAt: created, Status: own(st, shared), MFA: r.IntN(3) != 0}
	}
	return out
}

func scaleDevices(m int, people []domain.Person, shared bool, now time.Time) []domain.Device {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([]domain.Device, m)
	for i := range out {
		p := people[i%len(people)]
		if !shared {
			p = domain.Person{ID: own(p.ID, false), Email: own(p.Email, false), Name: own(p.Name, false)}
		}
		ua := r.IntN(len(scaleClients))
		first := now.Add(-time.Duration(r.IntN(30*24*3600)) * time.Second)
		out[i] = domain.Device{ID: fmt.Sprintf("dev_%022d", i), User: p, Name: own(scaleClients[ua], shared),
			Platform: own(index.ClientPlatform(scaleClients[ua]), shared), Trusted: r.IntN(4) == 0,
			FirstSeenAt: first, LastSeenAt: first.Add(time.Hour), LastIP: scaleIP(r), UpdatedAt: first}
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

// BenchmarkScaleMemory reports the live heap per row: the rows themselves
// (as decoded) and what the tables add (search text, facets, ids, the
// default and the "user" sort orders). One iteration is the measurement.
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
					st.Warm(index.DefaultSessionSort)
					st.Warm("user")
					dt.Warm(index.DefaultDeviceSort)
					tables := liveHeap()
					n := float64(sz.sessions + sz.devices)
					b.ReportMetric(float64(rows-base)/n, "rowB/row")
					b.ReportMetric(float64(tables-rows)/n, "indexB/row")
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
