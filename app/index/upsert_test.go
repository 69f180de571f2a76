package index_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
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

// A snapshot never changes once published: a walk begun before deltas
// (changed rows in every chunk, added rows past a chunk's end, enough of
// them to grow the id table, a new facet string) still sees the rows it
// began with, the adopted slice is not written to, and readers running
// alongside the writer (go test -race) never share memory it writes.
func TestDeltasLeaveOlderSnapshotsAlone(t *testing.T) {
	now := time.Now()
	rows := gen(2500, now) // a partial last chunk
	want := slices.Clone(rows)
	live := index.NewSessions()
	live.Adopt(rows)
	live.Warm("user")
	before := live.All()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				live.Find(index.Query[domain.Session]{Search: "u1", Sort: "user", Limit: 50}, "")
				live.Get(want[7].ID)
			}
		})
	}
	for round := range 5 {
		var delta []domain.Session
		for i := 0; i < len(want); i += 97 {
			s := want[i]
			s.Client, s.Status = fmt.Sprint("Changed ", round), "suspended"
			delta = append(delta, s)
		}
		for k := range 1000 {
			s := want[k]
			s.ID = fmt.Sprintf("added-%d-%04d", round, k)
			delta = append(delta, s)
		}
		live.Upsert(delta)
	}
	close(stop)
	readers.Wait()
	i := 0
	for r := range before {
		if r.ID != want[i].ID || r.Client != want[i].Client || r.Status != want[i].Status {
			t.Fatalf("row %d seen by an older walk changed: %+v, want %+v", i, *r, want[i])
		}
		i++
	}
	if i != len(want) || !slices.EqualFunc(rows, want, func(a, b domain.Session) bool { return a.ID == b.ID && a.Client == b.Client }) {
		t.Fatalf("the older walk saw %d rows (want %d), or the adopted slice was written to", i, len(want))
	}
	if n := live.Len(); n != len(want)+5000 {
		t.Fatalf("Len after the deltas = %d, want %d", n, len(want)+5000)
	}
	if got := live.Find(index.Query[domain.Session]{Search: "changed 4", Sort: "user", Limit: 1}, ""); got.Total != (len(want)+96)/97 {
		t.Fatalf("%d rows of the last delta's text found, want %d", got.Total, (len(want)+96)/97)
	}
}
