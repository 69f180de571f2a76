package index_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// Update over every row (ids nil) and over named ids answers as a table
// built afresh from the edited rows, leaves the snapshot an older walk
// reads alone, and skips unknown ids.
func TestUpdateAgreesWithRebuild(t *testing.T) {
	now := time.Now()
	nowN := now.UnixNano()
	rows := gen(3000, now) // a partial last chunk
	live := index.NewSessions()
	live.Replace(rows)
	queries := []index.Query[domain.Session]{
		{Sort: "status", Limit: 40, FilterKey: "active", KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, nowN) }},
		{Sort: "user", Limit: 40, FilterKey: "terminated", KeepFacet: func(f index.Key) bool { return f.Str == domain.StatusTerminated }},
	}
	for _, q := range queries { // orders in use: patched or sorted again
		live.Find(q, index.DefaultSessionSort)
	}
	before := live.All()
	end := func(s *domain.Session) bool {
		if s.Status != domain.StatusActive {
			return false
		}
		s.Status = domain.StatusTerminated
		return true
	}
	check := func(step string, want []domain.Session) {
		t.Helper()
		fresh := index.NewSessions()
		fresh.Replace(want)
		for _, q := range queries {
			a, b := live.Find(q, ""), fresh.Find(q, "")
			if a.Total != b.Total || !slices.Equal(ids(a), ids(b)) {
				t.Fatalf("%s, by %s: %d %v, want %d %v", step, q.Sort, a.Total, ids(a), b.Total, ids(b))
			}
		}
	}

	// A few named rows (one unknown, one twice, two in one chunk).
	named := []string{rows[5].ID, rows[2999].ID, "nobody", rows[7].ID, rows[5].ID, rows[1500].ID}
	want := slices.Clone(rows)
	n := 0
	for _, i := range []int{5, 2999, 7, 1500} {
		if end(&want[i]) {
			n++
		}
	}
	if got := live.Update(named, end); got != n {
		t.Fatalf("Update(ids) changed %d rows, want %d", got, n)
	}
	check("by ids", want)

	// Every row by a predicate: a third of the people.
	third := func(s *domain.Session) bool { return s.User.Email[3]%3 == 0 }
	n = 0
	for i := range want {
		if third(&want[i]) && end(&want[i]) {
			n++
		}
	}
	got := live.Update(nil, func(s *domain.Session) bool { return third(s) && end(s) })
	if got != n || n == 0 {
		t.Fatalf("Update(nil) changed %d rows, want %d (> 0)", got, n)
	}
	check("by predicate", want)
	if live.Update(nil, func(*domain.Session) bool { return false }) != 0 {
		t.Fatal("a change that changes nothing reported rows")
	}

	i := 0
	for r := range before {
		if r.ID != rows[i].ID || r.Status != rows[i].Status {
			t.Fatalf("row %d seen by an older walk changed: %s %s, want %s", i, r.ID, r.Status, rows[i].Status)
		}
		i++
	}
	if c := live.CountFacet("t", func(f index.Key) bool { return f.Str == domain.StatusTerminated }); c == 0 {
		t.Fatal("no terminated facet after Update")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Update changing an id did not panic")
		}
	}()
	live.Update([]string{rows[0].ID}, func(s *domain.Session) bool { s.ID = fmt.Sprint("x", s.ID); return true })
}
