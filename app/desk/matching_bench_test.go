package desk

import (
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/overview"
)

// BenchmarkSummarizeMatching1M is the index's part of "Select all N
// matching" then its dialog at a million sessions, now that the page sends
// the query and a few unticked ids instead of every id: SummarizeMatching's
// walk (EachSession's filter and order, markSession, the summary), without
// the workspace around it.
func BenchmarkSummarizeMatching1M(b *testing.B) {
	now := time.Now()
	rows, _ := overview.Sample(1_000_000, 0, now)
	t := index.NewSessions()
	t.Adopt(rows)
	except := map[string]struct{}{rows[0].ID: {}, rows[1].ID: {}}
	for b.Loop() {
		iq, err := sessionFilter(SessionQuery{Status: "all"}, now)
		if err != nil {
			b.Fatal(err)
		}
		iq.Sort, iq.Desc, iq.FilterKey = index.DefaultSessionSort, true, "export"
		sum := newSummary("", now)
		err = t.Each(iq, index.DefaultSessionSort, func(s domain.Session) error {
			if _, ok := except[s.ID]; !ok {
				markSession(&s, now, "")
				sum.add(s.ID, &s, true)
			}
			return nil
		})
		t.Forget()
		if err != nil || sum.result().Count != len(rows)-2 {
			b.Fatalf("%v, %+v", err, sum.result())
		}
	}
}
