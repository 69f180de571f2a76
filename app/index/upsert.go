package index

import (
	"slices"
	"sort"
)

// Upsert adds or updates rows by id. It reports whether anything was given.
//
// A delta is small next to the table, so the next snapshot is derived from
// the current one instead of rebuilt: only the chunks holding a changed or
// added row are copied (see snapshot), their columns rebuilt for the rows
// that changed, ids written only for added rows, and each sort order
// already built is patched (the touched rows taken out and put back at
// their places) rather than sorted again.
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
	n := int32(old.n)
	final := make(map[int32]int, len(items)) // row → the item that ends in it (the last given)
	added := map[string]int32{}
	for k := range items {
		id := t.spec.ID(&items[k])
		j, ok := old.lookup(id)
		if !ok {
			if j, ok = added[id]; !ok {
				j = n + int32(len(added))
				added[id] = j
			}
		}
		final[j] = k
	}
	s := t.derive(old, old.n+len(added))
	s.chunks = make([]*chunk[T], (s.n+chunkRows-1)/chunkRows)
	copy(s.chunks, old.chunks)
	touched := make([]int32, 0, len(final))
	for j := range final {
		touched = append(touched, j)
	}
	slices.Sort(touched)
	for lo := 0; lo < len(touched); {
		k := int(touched[lo] >> chunkShift)
		hi := lo
		for hi < len(touched) && int(touched[hi]>>chunkShift) == k {
			hi++
		}
		t.copyChunk(s, k, touched[lo:hi], func(j int32) *T { return &items[final[j]] })
		lo = hi
	}
	if len(added) > 0 {
		s.ids = old.ids.withRoom(len(added), int(n), s.idOf, s.version)
		for id, j := range added {
			s.ids.put(id, j, s.idOf, s.version)
		}
	}
	return s, touched
}

// derive starts the snapshot after old, of n rows, sharing old's chunks'
// dictionaries and ids (each copied on its first write).
func (t *Table[T]) derive(old *snapshot[T], n int) *snapshot[T] {
	return &snapshot[T]{version: old.version + 1, n: n, spec: &t.spec, dict: old.dict, syms: old.syms,
		labels: old.labels, ids: old.ids, orders: t.newOrders()}
}

// copyChunk replaces chunk k of s (shared with the snapshot s derives
// from, or missing when k holds only added rows) by a copy with rows
// (all in chunk k) set to item(row).
func (t *Table[T]) copyChunk(s *snapshot[T], k int, rows []int32, item func(int32) *T) {
	var fresh rowMarks
	for _, i := range rows {
		j := int(i & chunkMask)
		fresh[j/64] |= 1 << (j % 64)
	}
	c := &chunk[T]{}
	t.fill(s, c, s.chunks[k], s.rowsIn(k), &fresh, func(j int) *T { return item(int32(k<<chunkShift | j)) }, nil)
	s.chunks[k] = c
}

// patchOrders returns, per sort order old has built, s's order derived
// from it; none when so much changed that sorting again is as cheap.
//
// Only the touched rows whose key in an order changed (or that are new)
// move in it: a row whose key is what it was keeps its place, ties being
// broken by id, which never changes. An order none of whose rows moved is
// old's, shared. Ending sessions changes their status alone, and at a
// million sessions patching every order in use for each batch of a
// thousand ended, twice (the mark, then the platform's delta), was a
// third of the app's CPU while "Terminate selected" ran (docs/bench.md).
func (t *Table[T]) patchOrders(old, s *snapshot[T], touched []int32) map[string][]int32 {
	if len(touched) > s.n/32+64 {
		return nil
	}
	var keys []string
	var extract []func(*T) Key // keys[x]'s
	for key, o := range old.orders {
		if o.built.Load() {
			keys, extract = append(keys, key), append(extract, t.spec.Sorts[key])
		}
	}
	out := make(map[string][]int32, len(keys))
	if len(keys) == 0 {
		return out
	}
	moved := make([][]int32, len(keys))
	var was, now T
	for _, i := range touched {
		isNew := int(i) >= old.n
		if !isNew {
			old.get(old.chunks[i>>chunkShift], int(i&chunkMask), &was)
			s.get(s.chunks[i>>chunkShift], int(i&chunkMask), &now)
		}
		for x, f := range extract {
			if isNew || f(&was) != f(&now) {
				moved[x] = append(moved[x], i)
			}
		}
	}
	for x, key := range keys {
		perm := old.orders[key].perm
		if len(moved[x]) > 0 {
			perm = t.patch(s, key, perm, moved[x])
		}
		out[key] = perm
	}
	return out
}

// patch takes the touched rows out of perm and inserts each at its place in
// s's order (binary search: few comparisons). The result is the one array
// the new order needs: the kept rows are gathered into it, then moved up
// from the end to open a gap for each inserted row.
func (t *Table[T]) patch(s *snapshot[T], key string, perm []int32, touched []int32) []int32 {
	less := t.comparer(s, key)
	mark := make([]uint64, (s.n+63)/64)
	for _, i := range touched {
		mark[i/64] |= 1 << (i % 64)
	}
	out := make([]int32, 0, s.n)
	for _, i := range perm {
		if mark[i/64]&(1<<(i%64)) == 0 {
			out = append(out, i)
		}
	}
	kept := len(out)
	ins := slices.Clone(touched)
	slices.SortFunc(ins, less)
	at := make([]int, len(ins)) // where ins[x] goes among the kept rows
	p := 0
	for x, v := range ins {
		p += sort.Search(kept-p, func(m int) bool { return less(out[p+m], v) > 0 })
		at[x] = p
	}
	out = out[:s.n]
	r, w := kept, s.n
	for x := len(ins) - 1; x >= 0; x-- {
		w -= r - at[x]
		copy(out[w:], out[at[x]:r])
		r = at[x]
		w--
		out[w] = ins[x]
	}
	return out
}

// Update rewrites the rows change edits, in one write like Upsert's:
// change gets a copy of every row (of the rows with ids, when ids is not
// nil; unknown ids are skipped) and reports whether it changed it. Only
// the chunks holding a changed row are copied, and the sort orders in use
// are patched or sorted again as after Upsert. It reports how many rows
// changed.
//
// Unlike a Get followed by an Upsert, the row change sees is the current
// one, under the writers' lock: a sync that updated the row in between is
// not overwritten with the older copy. change must not alter the row's id,
// must not keep the pointer it gets (the next row is copied into the same
// place), and must not write through the row's pointers (the copy shares
// them with the published row): it assigns new ones instead.
func (t *Table[T]) Update(ids []string, change func(*T) bool) int {
	t.wait()
	t.wmu.Lock()
	defer t.wmu.Unlock()
	old := t.cur.Load()
	s := t.derive(old, old.n)
	s.chunks = slices.Clone(old.chunks)
	var touched []int32
	var rows []int32 // of one chunk, ascending
	var edited []T   // rows[x]'s new value
	// One scratch row for every try: change is an unknown function, so the
	// row whose address it gets lives on the heap, and a copy per row
	// allocated 272 MB at a million sessions (escape analysis, go build
	// -gcflags=-m).
	var r T
	try := func(i int32) {
		old.get(old.chunks[i>>chunkShift], int(i&chunkMask), &r)
		if !change(&r) {
			return
		}
		if t.spec.ID(&r) != old.idOf(i) {
			panic("index: Update changed a row's id")
		}
		rows, edited = append(rows, i), append(edited, r)
	}
	flush := func(k int) {
		if len(rows) == 0 {
			return
		}
		t.copyChunk(s, k, rows, func(i int32) *T {
			x, _ := slices.BinarySearch(rows, i)
			return &edited[x]
		})
		touched = append(touched, rows...)
		rows, edited = rows[:0], edited[:0]
	}
	if ids == nil {
		for k, c := range old.chunks {
			for j := range c.len() {
				try(int32(k<<chunkShift | j))
			}
			flush(k)
		}
	} else {
		at := make([]int32, 0, len(ids))
		for _, id := range ids {
			if i, ok := old.lookup(id); ok {
				at = append(at, i)
			}
		}
		slices.Sort(at)
		at = slices.Compact(at)
		for x, i := range at {
			try(i)
			if k := int(i >> chunkShift); x+1 == len(at) || int(at[x+1]>>chunkShift) != k {
				flush(k)
			}
		}
	}
	if len(touched) == 0 {
		return 0
	}
	t.publish(s, t.patchOrders(old, s, touched))
	return len(touched)
}
