package index_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/scaledata"
	"sessiondesk/backend/store"
)

// BenchmarkBroadFind is the first keystroke of a search, which matches
// (nearly) every row: "us" is in every session's e-mail. The remembered
// result is dropped before each Find, so each one searches the table; the
// sort orders are built beforehand, as the app warms them. "active" adds
// the filter of the sessions tab. Run one size at a time, e.g.
// -bench 'BroadFind/1M' (~1.5 GB).
func BenchmarkBroadFind(b *testing.B) {
	for _, sz := range scaleSizes {
		now := time.Now()
		var st *index.Table[domain.Session]
		setup := func() {
			if st == nil {
				st = index.NewSessions()
				st.Adopt(scaledata.Sessions(sz.sessions, scaledata.People(sz.people), true, now))
				st.Warm(index.DefaultSessionSort)
				st.Warm("user")
			}
		}
		nowN := now.UnixNano()
		active := func(f index.Key) bool { return index.ActiveFacet(f, nowN) }
		for _, c := range []struct {
			name string
			q    index.Query[domain.Session]
		}{
			{"us", index.Query[domain.Session]{Search: "us", Limit: 100}},
			{"us/active/user", index.Query[domain.Session]{Search: "us", Sort: "user", Limit: 100, FilterKey: "active", KeepFacet: active}},
		} {
			b.Run(sz.name+"/"+c.name, func(b *testing.B) {
				setup()
				for b.Loop() {
					st.Forget()
					if res := st.Find(c.q, index.DefaultSessionSort); len(res.Items) != 100 || res.Total < sz.sessions/2 {
						b.Fatalf("%d items of %d", len(res.Items), res.Total)
					}
				}
			})
		}
		st = nil
	}
}

// BenchmarkNarrowingKeystrokes types three keystrokes into the sessions
// tab's query (active, newest first) as the app's search box sends them,
// from no remembered result: each after the first narrows the one before,
// and they match every row, a tenth and a fiftieth to a hundredth of them
// (at a million, 50,000 people: "user0", "user01", "user015", the
// keystrokes the UI bench found slowest at that size). The app judges
// "active" anew each second: "a second each" types one keystroke a second
// (FilterAt), "key per second" the same as the app did before FilterAt,
// with the second in FilterKey, where no keystroke could narrow the last.
func BenchmarkNarrowingKeystrokes(b *testing.B) {
	for _, sz := range scaleSizes {
		now := time.Now()
		var st *index.Table[domain.Session]
		needles := map[string][]string{"100k": {"user00", "user000", "user0001"}, "1M": {"user0", "user01", "user015"}}[sz.name]
		for _, mode := range []string{"one second", "a second each", "key per second"} {
			b.Run(sz.name+"/"+mode, func(b *testing.B) {
				if st == nil {
					st = newestFirst(sz.sessions, sz.people, now)
				}
				for b.Loop() {
					st.Forget()
					for k, needle := range needles {
						at := now
						if mode != "one second" {
							at = now.Add(time.Duration(k) * time.Second)
						}
						q := activeQuery(needle, at)
						if mode == "key per second" {
							q.FilterKey, q.FilterAt = fmt.Sprint("active@", k), 0
						}
						if res := st.Find(q, index.DefaultSessionSort); len(res.Items) == 0 {
							b.Fatalf("%q: nothing found", needle)
						}
					}
				}
			})
		}
		st = nil
	}
}

// BenchmarkNextSecond is "us" typed after "u" in the sessions tab
// (active, newest first), both matching every row: in the same second as
// "u", and in the next, when the active filter judges again the rows it
// has dropped since (the memo's due rows; before them, every match).
func BenchmarkNextSecond(b *testing.B) {
	for _, sz := range scaleSizes {
		now := time.Now()
		var st *index.Table[domain.Session]
		for _, later := range []time.Duration{0, time.Second} {
			b.Run(fmt.Sprint(sz.name, "/", later), func(b *testing.B) {
				if st == nil {
					st = newestFirst(sz.sessions, sz.people, now)
				}
				for b.Loop() {
					b.StopTimer()
					st.Forget()
					st.Find(activeQuery("u", now), index.DefaultSessionSort)
					b.StartTimer()
					if res := st.Find(activeQuery("us", now.Add(later)), index.DefaultSessionSort); len(res.Items) == 0 {
						b.Fatal("nothing found")
					}
				}
			})
		}
		st = nil
	}
}

// newestFirst is a table of the scale tests' sessions as of now, sorted
// newest first (the sessions tab's default order) beforehand, as the app
// warms it.
func newestFirst(sessions, people int, now time.Time) *index.Table[domain.Session] {
	st := index.NewSessions()
	st.Adopt(scaledata.Sessions(sessions, scaledata.People(people), true, now))
	st.Warm(index.DefaultSessionSort)
	return st
}

// activeQuery is the sessions tab's query for needle as the desk sends it
// at at: active sessions, newest first.
func activeQuery(needle string, at time.Time) index.Query[domain.Session] {
	atN := at.UnixNano()
	return index.Query[domain.Session]{Search: needle, Sort: index.DefaultSessionSort, Desc: true, Limit: 100,
		FilterKey: "active", FilterAt: atN, KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, atN) }}
}

// BenchmarkFirstSort is the first query sorted by a column not sorted
// before: it builds that order of the whole table. A table is loaded
// afresh (not timed) before each build, as after a load or a full sync,
// and the one before collected, so that the collector's work on it is not
// timed with the sort. Run one size at a time, e.g. -bench 'FirstSort/1M' (~2 GB).
func BenchmarkFirstSort(b *testing.B) {
	for _, sz := range scaleSizes {
		var rows []domain.Session
		for _, key := range []string{"user", "client"} {
			b.Run(sz.name+"/"+key, func(b *testing.B) {
				if rows == nil {
					rows = scaledata.Sessions(sz.sessions, scaledata.People(sz.people), true, time.Now())
				}
				st := index.NewSessions()
				for b.Loop() {
					b.StopTimer()
					st.Adopt(rows) // the rows are only read: a table may own them again
					runtime.GC()   // the last table's collection is not the sort's
					b.StartTimer()
					st.Warm(key)
				}
			})
		}
		rows = nil
	}
}

// BenchmarkFirstSortRandomIDs is BenchmarkFirstSort at a million rows as
// the app holds them: rows stored in no order of their ids (the scale
// rows' counted ids, stored in id order, make every tie on a column of
// few values cheap), ids either random after their prefix (Kratos', and
// platformd's before they began with their time) or platformd's
// (store.NewSessionID: a week's share their first bytes). Columns of few
// values (client, place, status) are nearly all ties, broken by id. ~2 GB.
func BenchmarkFirstSortRandomIDs(b *testing.B) {
	rows := scaledata.Sessions(1_000_000, scaledata.People(50_000), true, time.Now())
	r := rand.New(rand.NewPCG(3, 4))
	for _, ids := range []string{"random", "platformd"} {
		for i := range rows {
			if ids == "random" {
				rows[i].ID = fmt.Sprintf("ses_%016x%010x", r.Uint64(), r.Uint64()>>24)
			} else {
				rows[i].ID = store.NewSessionID(rows[i].CreatedAt)
			}
		}
		r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for _, key := range []string{"user", "client", "location", "status"} {
			b.Run("ids="+ids+"/"+key, func(b *testing.B) {
				st := index.NewSessions()
				for b.Loop() {
					b.StopTimer()
					st.Adopt(rows)
					runtime.GC()
					b.StartTimer()
					st.Warm(key)
				}
			})
		}
	}
}
