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
