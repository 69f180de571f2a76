package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"sessiondesk/app/domain"
)

type sortRow struct {
	id  string
	num int64
	str string
}

// The parallel sort gives exactly the order of one sequential sort by key,
// then id, whatever the number of parts (odd ones make a merge round copy
// a part through), on keys with many ties, including tables smaller than
// their parts. Keys with few distinct values are compared by rank
// (rankKeys), mostly distinct ones as they are: both agree with one sort.
func TestSortRowsAgreesWithOneSort(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	tb := New(Spec[sortRow]{
		ID:   func(x *sortRow) string { return x.id },
		Text: func(x *sortRow) string { return x.str },
		Sorts: map[string]func(*sortRow) Key{
			"k": func(x *sortRow) Key { return Key{Num: x.num, Str: x.str} }, // few distinct: ranked (rankKeys)
			"d": func(x *sortRow) Key { return Key{Str: x.str + x.id} },      // all distinct: compared as they are
		},
	})
	strs := []string{"", "a", "ab", "b", "B", "é"}
	// Every id of a table sharing a prefix (as every session ID of a week
	// shares "ses_" and its time's high bits) moves the bytes compared as
	// a number past it; one id is that prefix alone.
	for _, common := range []string{"", "ses_4kz7a"} {
		for _, n := range []int{0, 1, 2, 7, 1000, 5003, 3 * chunkRows} {
			rows := make([]sortRow, n)
			for i, v := range r.Perm(n) { // unique ids of varying length, in no order
				id := fmt.Sprint(v * 7)
				if v%2 == 0 { // half share their first eight bytes (see prefix8)
					id = "session_" + id
				}
				rows[i] = sortRow{id: common + id, num: int64(r.IntN(3)) - 1, str: strs[r.IntN(len(strs))]}
			}
			if common != "" && n > 2 {
				rows[n/2].id = common
			}
			tb.Replace(rows)
			s := tb.cur.Load()
			for key, extract := range tb.spec.Sorts {
				want := make([]int32, n)
				for i := range want {
					want[i] = int32(i)
				}
				slices.SortFunc(want, func(a, b int32) int {
					if c := compareKeys(extract(&rows[a]), extract(&rows[b])); c != 0 {
						return c
					}
					return strings.Compare(rows[a].id, rows[b].id)
				})
				for parts := 1; parts <= 7; parts++ {
					if got := tb.sortRows(s, key, parts); !slices.Equal(got, want) {
						t.Fatalf("%d rows (ids after %q) by %s in %d parts: the order differs from one sort's", n, common, key, parts)
					}
				}
			}
		}
	}
}

// A sort order built tells OnScratchFreed, once, how much scratch it left:
// the table's rows times sortScratch, and nothing for an order already
// built.
func TestBuildingAnOrderTellsItsScratch(t *testing.T) {
	tb := New(Spec[sortRow]{
		ID:    func(x *sortRow) string { return x.id },
		Text:  func(x *sortRow) string { return x.str },
		Sorts: map[string]func(*sortRow) Key{"k": func(x *sortRow) Key { return Key{Num: x.num} }},
	})
	var told []int
	tb.OnScratchFreed(func(bytes int) { told = append(told, bytes) })
	rows := make([]sortRow, 3000)
	for i := range rows {
		rows[i] = sortRow{id: fmt.Sprint(i), num: int64(i % 7)}
	}
	tb.Replace(rows)
	tb.Warm("k")
	tb.Warm("k")
	if want := []int{3000 * sortScratch}; !slices.Equal(told, want) {
		t.Fatalf("told %v, want %v", told, want)
	}
	if sortScratch != 48 {
		t.Fatalf("sortScratch = %d bytes a row, want 48 (key 24, id header 16, prefix 8) on this platform", sortScratch)
	}
}

// A column's blank values (no place known, no device name, no address)
// come after every other value in either direction, as in a spreadsheet;
// the others and the ties among the blanks are in the order asked, ties
// by id. It holds for every way Find and Each read an order: every row,
// a broad result (a bitmap), a narrow one (its rows), a window at an
// offset, and a delta that patched the order.
func TestBlanksSortLastEitherWay(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	places := []string{"", "Berlin, DE", "austin, US", "Zurich, CH", " ", "Lisbon, PT"}
	n := 5000
	rows := make([]domain.Session, n)
	for i, v := range r.Perm(n) { // ids in no order
		rows[i] = domain.Session{ID: fmt.Sprintf("s%05d", v), Location: places[r.IntN(len(places))],
			User: domain.Person{Email: fmt.Sprintf("u%03d@acme.test", r.IntN(300))}, Status: domain.StatusActive}
		if i%4 == 0 {
			rows[i].Status = domain.StatusTerminated
		}
	}
	tb := NewSessions()
	tb.Replace(rows)
	blank := func(s domain.Session) bool { return strings.TrimSpace(s.Location) == "" }
	want := func(rows []domain.Session, search string, active, desc bool) []string {
		var kept []domain.Session
		for _, s := range rows {
			if strings.Contains(s.User.Email, search) && (!active || s.Status == domain.StatusActive) {
				kept = append(kept, s)
			}
		}
		slices.SortFunc(kept, func(a, b domain.Session) int {
			if ba, bb := blank(a), blank(b); ba != bb {
				if ba {
					return 1
				}
				return -1
			}
			c := strings.Compare(strings.ToLower(a.Location), strings.ToLower(b.Location))
			if c == 0 {
				c = strings.Compare(a.ID, b.ID)
			}
			if blank(a) { // both blank: only the ids differ
				c = strings.Compare(a.ID, b.ID)
			}
			if desc {
				return -c
			}
			return c
		})
		ids := make([]string, len(kept))
		for i, s := range kept {
			ids[i] = s.ID
		}
		return ids
	}
	check := func(stage string) {
		t.Helper()
		for _, search := range []string{"", "u0", "u01"} { // every row (or a broad result), broad, narrow
			for _, active := range []bool{false, true} {
				for _, desc := range []bool{false, true} {
					exp := want(rows, search, active, desc)
					q := Query[domain.Session]{Search: search, Sort: "location", Desc: desc, FilterKey: fmt.Sprint(active), Limit: n}
					if active {
						q.Keep = func(s *domain.Session) bool { return s.Status == domain.StatusActive }
					}
					var got []string
					for _, s := range tb.Find(q, DefaultSessionSort).Items {
						got = append(got, s.ID)
					}
					if !slices.Equal(got, exp) {
						t.Fatalf("%s: search %q active %v desc %v: %d rows, want %d; first differs at %d",
							stage, search, active, desc, len(got), len(exp), firstDiff(got, exp))
					}
					q.Offset, q.Limit = len(exp)-len(exp)/5, 30 // a window across where the blanks begin
					got = got[:0]
					for _, s := range tb.Find(q, DefaultSessionSort).Items {
						got = append(got, s.ID)
					}
					if end := min(q.Offset+30, len(exp)); !slices.Equal(got, exp[q.Offset:end]) {
						t.Fatalf("%s: search %q active %v desc %v: the window at %d differs", stage, search, active, desc, q.Offset)
					}
					got = got[:0]
					if err := tb.Each(q, DefaultSessionSort, func(s domain.Session) error { got = append(got, s.ID); return nil }); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, exp) {
						t.Fatalf("%s: Each, search %q active %v desc %v: first differs at %d", stage, search, active, desc, firstDiff(got, exp))
					}
				}
			}
		}
	}
	check("loaded")
	// A delta that blanks some places and fills others patches the order.
	var changed []domain.Session
	for _, k := range r.Perm(n)[:200] {
		rows[k].Location = places[r.IntN(len(places))]
		changed = append(changed, rows[k])
	}
	tb.Upsert(changed)
	check("after a delta")
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
