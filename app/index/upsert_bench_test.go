package index_test

import (
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/scaledata"
)

// BenchmarkUpsertOneRow is the live delta: one known session seen active
// again. B/op is what such a delta allocates (each delta's copy is what
// made the app's RSS climb back between full syncs). "rows" has no sort
// order built; "ordered" has the default one in use, as the app always
// does, which Upsert patches; "ordered+user" has the order by user too, as
// the syncer warms it. Run one size at a time, e.g.
// -bench 'UpsertOneRow/100k' -benchmem (/1M needs ~2 GB).
func BenchmarkUpsertOneRow(b *testing.B) {
	for _, sz := range scaleSizes {
		for _, c := range []struct {
			name  string
			sorts []string
		}{{"rows", nil}, {"ordered", []string{index.DefaultSessionSort}}, {"ordered+user", []string{index.DefaultSessionSort, "user"}}} {
			b.Run(sz.name+"/"+c.name, func(b *testing.B) {
				now := time.Now()
				rows := scaledata.Sessions(sz.sessions, scaledata.People(sz.people), true, now)
				st := index.NewSessions()
				st.Adopt(rows)
				for _, sort := range c.sorts {
					st.Find(index.Query[domain.Session]{Sort: sort, Limit: 100}, "")
				}
				delta := []domain.Session{rows[sz.sessions/2]}
				b.ReportAllocs()
				for b.Loop() {
					delta[0].LastActiveAt = delta[0].LastActiveAt.Add(time.Second)
					st.Upsert(delta)
				}
			})
		}
	}
}

// BenchmarkEndBatch is one batch of "Terminate selected": a thousand
// sessions, next to each other in the table (the ids are walked in the
// order stored), marked ended by Update, with the orders by last active,
// person and place in use. Only the status changes, so no order moves.
// Run one size at a time: -bench 'EndBatch/1M' -benchmem.
func BenchmarkEndBatch(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			now := time.Now()
			rows := scaledata.Sessions(sz.sessions, scaledata.People(sz.people), true, now)
			st := index.NewSessions()
			st.Adopt(rows)
			for _, sort := range []string{index.DefaultSessionSort, "user", "location"} {
				st.Find(index.Query[domain.Session]{Sort: sort, Limit: 100}, "")
			}
			ids := make([]string, 1000)
			next := 0
			b.ReportAllocs()
			for b.Loop() {
				for k := range ids {
					ids[k] = rows[next%len(rows)].ID
					next++
				}
				st.Update(ids, func(s *domain.Session) bool { // ended, or active again on the next lap
					if s.Status == domain.StatusActive {
						s.Status = domain.StatusTerminated
					} else {
						s.Status = domain.StatusActive
					}
					return true
				})
			}
		})
	}
}
