package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
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
