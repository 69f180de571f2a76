package index_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// ids lists the ids of a window.
func ids(res index.Result[domain.Session]) []string {
	out := make([]string, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, s.ID)
	}
	return out
}

// A table kept current by deltas answers as one built afresh from the same
// rows: the derived snapshot (appended rows, rebuilt text, patched orders,
// copied facets and ids) and the narrowed searches of keystrokes.
func TestUpsertAgreesWithRebuild(t *testing.T) {
	now := time.Now()
	nowN := now.UnixNano()
	r := rand.New(rand.NewPCG(9, 10))
	rows := gen(3000, now)
	live := index.NewSessions()
	live.Replace(rows)
	queries := []index.Query[domain.Session]{
		{Sort: "user", Limit: 40, FilterKey: "active", KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, nowN) }},
		{Sort: "last_active_at", Desc: true, Limit: 40, FilterKey: "all"},
		{Sort: "ip", Limit: 40, FilterKey: "terminated", KeepFacet: func(f index.Key) bool { return f.Str == domain.StatusTerminated }},
	}
	for round := 0; round < 30; round++ {
		for _, q := range queries { // the UI has used these orders: Upsert patches them
			live.Find(q, index.DefaultSessionSort)
		}
		var delta []domain.Session
		for k := r.IntN(40); k >= 0; k-- {
			switch s := rows[r.IntN(len(rows))]; r.IntN(5) {
			case 0: // a new row
				s.ID = fmt.Sprintf("n%03d-%02d", round, k)
				delta = append(delta, s)
			case 1: // the search text changes
				s.Client = "Brand New " + fmt.Sprint(r.IntN(9))
				delta = append(delta, s)
			case 2: // a facet changes, with a status never seen before once
				s.Status = []string{domain.StatusTerminated, domain.StatusActive, "suspended"}[r.IntN(3)]
				delta = append(delta, s)
			default: // only a sort key changes; sometimes twice in one delta
				s.LastActiveAt = s.LastActiveAt.Add(time.Duration(r.IntN(7200)-3600) * time.Second)
				s.User.Email = fmt.Sprintf("u%03d@acme.test", r.IntN(300))
				delta = append(delta, s)
				if r.IntN(3) == 0 {
					s.IP = "10.9.9.9"
					delta = append(delta, s)
				}
			}
		}
		live.Upsert(delta)
		rows = merge(rows, delta)
		fresh := index.NewSessions()
		fresh.Replace(rows)
		if live.Len() != len(rows) {
			t.Fatalf("round %d: len %d, want %d", round, live.Len(), len(rows))
		}
		for _, q := range queries {
			for _, typed := range []string{"", "u", "u0", "u01", "u0", "u01@", "brand", "brand new 3"} {
				q.Search, q.Offset = typed, r.IntN(20)
				fresh.Forget() // the reference searches every row
				got, want := live.Find(q, ""), fresh.Find(q, "")
				if got.Total != want.Total || !slices.Equal(ids(got), ids(want)) {
					t.Fatalf("round %d %q by %s: %d %v, want %d %v", round, typed, q.Sort, got.Total, ids(got), want.Total, ids(want))
				}
			}
		}
		for _, s := range delta {
			if got, ok := live.Get(s.ID); !ok || got.ID != s.ID {
				t.Fatalf("round %d: Get(%s) = %v", round, s.ID, ok)
			}
		}
		count := func(tb *index.Table[domain.Session]) int {
			return tb.CountFacet(fmt.Sprint("t", round), func(f index.Key) bool { return f.Str == domain.StatusTerminated })
		}
		if got, want := count(live), count(fresh); got != want {
			t.Fatalf("round %d: terminated %d, want %d", round, got, want)
		}
	}
}

// merge is Upsert's meaning, spelled out: by id, the last given wins, new
// ids are added at the end in the order first given.
func merge(rows, delta []domain.Session) []domain.Session {
	out := slices.Clone(rows)
	at := map[string]int{}
	for i, s := range out {
		at[s.ID] = i
	}
	for _, s := range delta {
		if i, ok := at[s.ID]; ok {
			out[i] = s
			continue
		}
		at[s.ID] = len(out)
		out = append(out, s)
	}
	return out
}
