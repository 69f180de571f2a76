package desk

import (
	"testing"
	"time"

	"sessiondesk/app/index"
	"sessiondesk/app/overview"
)

// BenchmarkFilteredSearch100k is a new search over 100,000 sessions with
// the MFA, platform and country filters on and a sort: the question the
// filter chips ask on every keystroke. A new string each time, so the
// remembered result never answers.
func BenchmarkFilteredSearch100k(b *testing.B) {
	now := time.Now()
	rows, _ := overview.Sample(100_000, 0, now)
	t := index.NewSessions()
	t.Adopt(rows)
	needles := []string{"203.0", "203.0.1", "203.0.11", "203.0.113", "203.0.113.1"}
	i := 0
	for b.Loop() {
		q, err := sessionFilter(SessionQuery{Status: "all", MFA: "no", Platform: "Windows", Country: "DE"}, now)
		if err != nil {
			b.Fatal(err)
		}
		q.Search, q.Sort, q.Limit = needles[i%len(needles)], "user", 100
		i++
		t.Forget()
		if res := t.Find(q, index.DefaultSessionSort); res.Total == 0 {
			b.Fatal("no match")
		}
	}
}
