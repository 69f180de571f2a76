package index

import (
	"bytes"
	"slices"
	"sort"
)

// Upsert adds or updates rows by id. It reports whether anything was given.
//
// A delta is small next to the table, so the next snapshot is derived from
// the current one instead of rebuilt: new rows are appended (in place, see
// snapshot), the search text is rebuilt only when an existing row's text
// changed, facets and ids are copied only when touched, and each sort
// order already built is patched (the touched rows taken out and put back
// at their places) rather than sorted again. The rows themselves are copied
// when an existing one changes: All hands the slice to readers.
func (t *Table[T]) Upsert(items []T) bool {
	if len(items) == 0 {
		return false
	}
	t.wait()
	t.wmu.Lock()
	defer t.wmu.Unlock()
	old := t.cur.Load()
	s, touched := t.apply(old, items)
	t.publish(s, t.patchOrders(old, s, touched))
	return true
}

// apply builds the snapshot after items; touched lists, ascending, the
// rows that changed or were added.
func (t *Table[T]) apply(old *snapshot[T], items []T) (*snapshot[T], []int32) {
	n := int32(len(old.rows))
	rowOf := make([]int32, len(items))
	added := map[string]int32{}
	updated := false
	for k := range items {
		id := t.spec.ID(&items[k])
		j, ok := old.lookup(id, t.spec.ID)
		if !ok {
			if j, ok = added[id]; !ok {
				j = n + int32(len(added))
				added[id] = j
			}
		}
		updated = updated || j < n
		rowOf[k] = j
	}
	s := &snapshot[T]{version: old.version + 1, orders: t.newOrders(), facet: old.facet, ids: old.ids}
	if updated {
		s.rows = make([]T, int(n)+len(added))
		copy(s.rows, old.rows)
	} else {
		s.rows = slices.Grow(old.rows, len(added))[:int(n)+len(added)]
	}
	final := make(map[int32]int, len(items)) // row → the item that ends in it (the last given)
	for k, j := range rowOf {
		s.rows[j] = items[k]
		final[j] = k
	}
	touched := make([]int32, 0, len(final))
	for j := range final {
		touched = append(touched, j)
	}
	slices.Sort(touched)
	t.applyText(old, s, touched)
	if t.spec.Facet != nil {
		t.applyFacets(old, s, touched)
	}
	if len(added) > 0 {
		idAt := func(j int32) string { return t.spec.ID(&s.rows[j]) }
		s.ids = old.ids.withRoom(len(added), int(n), idAt)
		for id, j := range added {
			s.ids.put(id, j, idAt)
		}
	}
	return s, touched
}

// applyText gives s the search text: old's with the added rows appended,
// or rebuilt when a touched row's text changed.
func (t *Table[T]) applyText(old, s *snapshot[T], touched []int32) {
	n := int32(len(old.rows))
	var scratch []byte
	rebuild := false
	for _, j := range touched {
		if j >= n {
			break
		}
		scratch = appendLower(scratch[:0], t.spec.Text(&s.rows[j]))
		if !bytes.Equal(scratch, old.text(int(j))) {
			rebuild = true
			break
		}
	}
	from := n
	if rebuild {
		s.blob = make([]byte, 0, len(old.blob)+len(old.blob)/8)
		s.starts = make([]int32, 0, len(s.rows))
		from = 0
	} else {
		s.blob, s.starts = old.blob, old.starts
	}
	for i := from; i < int32(len(s.rows)); i++ {
		s.starts = append(s.starts, int32(len(s.blob)))
		s.blob = appendLower(s.blob, t.spec.Text(&s.rows[i]))
		s.blob = append(s.blob, 0)
	}
}

// applyFacets gives s the facets: old's columns, copied if a touched row's
// facet changed, with the added rows appended.
func (t *Table[T]) applyFacets(old, s *snapshot[T], touched []int32) {
	n := int32(len(old.rows))
	f := old.facet
	ownDict, ownCols := false, false
	for _, j := range touched {
		k := t.spec.Facet(&s.rows[j])
		if j < n && old.facet.at(j) == k {
			continue
		}
		if !ownDict { // a new string would change the shared dictionary
			ownDict = true
			f.dict = slices.Clone(f.dict)
			f.code = make(map[string]uint32, len(old.facet.code))
			for str, c := range old.facet.code {
				f.code[str] = c
			}
		}
		if j < n && !ownCols {
			ownCols = true
			f.nums, f.codes = slices.Clone(f.nums[:n]), slices.Clone(f.codes[:n])
		}
		if j >= n { // added rows come last, in order
			f.nums, f.codes = append(f.nums, 0), append(f.codes, 0)
		}
		f.set(int(j), k)
	}
	s.facet = f
}

// patchOrders returns, per sort order old has built, s's order derived
// from it; none when so much changed that sorting again is as cheap.
func (t *Table[T]) patchOrders(old, s *snapshot[T], touched []int32) map[string][]int32 {
	if len(touched) > len(s.rows)/32+64 {
		return nil
	}
	out := map[string][]int32{}
	for key, o := range old.orders {
		if o.built.Load() {
			out[key] = t.patch(s, key, o.perm, touched)
		}
	}
	return out
}

// patch takes the touched rows out of perm and inserts each at its place in
// s's order (binary search: few comparisons, one pass of copying).
func (t *Table[T]) patch(s *snapshot[T], key string, perm []int32, touched []int32) []int32 {
	less := t.comparer(s, key)
	mark := make([]uint64, (len(s.rows)+63)/64)
	for _, i := range touched {
		mark[i/64] |= 1 << (i % 64)
	}
	kept := make([]int32, 0, len(s.rows))
	for _, i := range perm {
		if mark[i/64]&(1<<(i%64)) == 0 {
			kept = append(kept, i)
		}
	}
	ins := slices.Clone(touched)
	slices.SortFunc(ins, less)
	out := make([]int32, 0, len(s.rows))
	at := 0
	for _, x := range ins {
		p := at + sort.Search(len(kept)-at, func(m int) bool { return less(kept[at+m], x) > 0 })
		out = append(out, kept[at:p]...)
		out = append(out, x)
		at = p
	}
	return append(out, kept[at:]...)
}
