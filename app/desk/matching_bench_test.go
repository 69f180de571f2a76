package desk

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// BenchmarkSummarizeMatching1M is the index's part of "Select all N
// matching" then its dialog at a million sessions (the page sends the query
// and the few unticked ids, not every id): summarizeMatching, the walk that
// SummarizeMatching runs, without the workspace around it. The rows are
// like platformd's seed: 50,000 people, the default order (last active)
// unrelated to the order the rows are stored in. Read its B/op: a row that
// escapes to the heap on the way shows there as ~272 MB.
func BenchmarkSummarizeMatching1M(b *testing.B) {
	const n, people = 1_000_000, 50_000
	now := time.Now()
	r := rand.New(rand.NewPCG(1, 2))
	who := make([]domain.Person, people)
	for i := range who {
		who[i] = domain.Person{ID: fmt.Sprintf("usr_%026d", i), Email: fmt.Sprintf("person%05d@bigcorp.test", i), Name: fmt.Sprintf("Person %05d", i)}
	}
	rows := make([]domain.Session, n)
	for i := range rows {
		rows[i] = domain.Session{ID: fmt.Sprintf("ses_%026d", i), User: who[r.IntN(people)], IP: "203.0.113.7",
			Client: "Firefox 133 on Linux", Location: "Berlin, DE", Status: domain.StatusActive,
			CreatedAt: now.Add(-time.Duration(r.IntN(86400)) * time.Second), LastActiveAt: now.Add(-time.Duration(r.IntN(86400)) * time.Second),
			ExpiresAt: now.Add(time.Hour)}
	}
	t := index.NewSessions()
	t.Adopt(rows)
	t.Warm(index.DefaultSessionSort)
	except := []string{rows[0].ID, rows[1].ID}
	for _, status := range []string{"all", "active"} {
		b.Run(status, func(b *testing.B) {
			for b.Loop() {
				sum, err := summarizeMatching(t, SessionQuery{Status: status}, except, now, rows[2].ID)
				if err != nil || sum.Count != n-2 || !sum.IncludesMe || len(sum.People) != 5 {
					b.Fatalf("%v, %+v", err, sum)
				}
			}
		})
	}
}
