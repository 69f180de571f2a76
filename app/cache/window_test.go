package cache_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// The SQL window that answers the list while the index loads must give
// exactly what the index gives: same rows, same order (ties included), same
// totals, for every sort it accepts, both directions and both filters.
func TestSessionWindowEqualsIndex(t *testing.T) {
	now := time.Now().UTC()
	sess := largeSessions(6000, now) // above the bulk-insert threshold: indexes rebuilt
	for i := range sess {
		s := &sess[i]
		s.LastActiveAt = now.Add(-time.Duration(i%37) * time.Minute) // many ties
		s.CreatedAt = now.Add(-time.Duration(i%11) * time.Hour)
		s.ExpiresAt = now.Add(time.Duration(i%5-1) * time.Hour) // some already past
		s.MFA = i%3 == 0
		switch i % 7 {
		case 0:
			s.Status = domain.StatusTerminated
		case 1:
			s.Status = domain.StatusExpired
		}
	}
	st, _ := open(t, t.TempDir(), key(t), nil)
	defer st.Close()
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sess}); err != nil {
		t.Fatal(err)
	}
	tbl := index.NewSessions()
	tbl.Replace(sess)
	nowNano := now.UnixNano()
	ids := func(xs []domain.Session) []string {
		out := make([]string, len(xs))
		for i := range xs {
			out[i] = xs[i].ID
		}
		return out
	}
	for sort := range cache.WindowSorts {
		for _, desc := range []bool{false, true} {
			for _, active := range []bool{false, true} {
				for _, w := range [][2]int{{0, 100}, {37, 250}, {5950, 100}, {0, 0}} {
					name := fmt.Sprintf("%s desc=%v active=%v window=%v", sort, desc, active, w)
					q := index.Query[domain.Session]{Sort: sort, Desc: desc, Offset: w[0], Limit: w[1], FilterKey: "all"}
					var f cache.SessionFilter
					if active {
						q.FilterKey = "active"
						q.KeepFacet = func(k index.Key) bool { return index.ActiveFacet(k, nowNano) }
						f.ActiveAt = nowNano
					}
					want := tbl.Find(q, index.DefaultSessionSort)
					got, total, err := st.SessionWindow(context.Background(), f, sort, desc, w[0], w[1])
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if total != want.Total || !slices.Equal(ids(got), ids(want.Items)) {
						t.Fatalf("%s: SQL gives %d %v…, index %d %v…", name, total, head(ids(got)), want.Total, head(ids(want.Items)))
					}
					if len(got) > 0 && (got[0].User.Email != want.Items[0].User.Email || !got[0].LastActiveAt.Equal(want.Items[0].LastActiveAt)) {
						t.Fatalf("%s: rows differ: %+v vs %+v", name, got[0], want.Items[0])
					}
				}
			}
		}
	}
	if _, _, err := st.SessionWindow(context.Background(), cache.SessionFilter{}, "user", false, 0, 10); err == nil {
		t.Fatal("a sealed column was ordered in SQL")
	}
}

func head(xs []string) []string { return xs[:min(len(xs), 5)] }
