package index

import (
	"bytes"
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Query is one list request.
type Query[T any] struct {
	Search string // case-insensitive substring; empty matches all
	// Keep filters rows; FilterKey names it for the memo (rows kept by the
	// same FilterKey must be the same). It is called from several
	// goroutines at once on a large table, so it must only read.
	Keep func(*T) bool
	// KeepFacet filters on the row's facet (see Spec.Facet); cheaper than
	// Keep. Both may be set; the same goes for it.
	KeepFacet func(Key) bool
	FilterKey string
	// FilterAt, when not zero, is the instant a filter on the clock judges
	// at, for a filter that only ever drops rows as time passes, and a row
	// only once the instant has passed its facet's Num: kept at a, dropped
	// at a later b only if a < Num <= b (active: a session's expiry). A
	// result remembered for the same FilterKey at an earlier FilterAt
	// holds every row this one can, so a keystroke narrows it instead of
	// searching every row afresh, and judges again only the rows it
	// noted as due to drop by then (see memo.due).
	// A filter that gains rows with time (expired) must carry the time in
	// FilterKey instead.
	FilterAt int64
	// Clear describes Keep/KeepFacet for a loading table's Source (for
	// sessions, a cache.SessionFilter); the table itself ignores it.
	Clear  any
	Sort   string // a key of Spec.Sorts; unknown keys fall back to DefaultSort
	Desc   bool
	Offset int
	Limit  int
}

// Result is a window of matching rows and how many matched in all.
type Result[T any] struct {
	Items []T
	Total int
}

// memo is a remembered result: the matches of needle under key (filter,
// sort, direction) in one version of the table. A narrow result keeps its
// rows in order; a broad one only a bitmap of them (one bit a row), which
// its windows are read from by walking the sort order: at 1,000,000 rows
// the first keystroke of a search matches nearly every row, and writing
// them all out in order cost more than the search itself, for a window of
// 100. The bitmap is also all a narrowing keystroke needs from it.
type memo struct {
	version uint64
	key     string
	needle  string
	at      int64 // the query's FilterAt
	total   int
	rows    []int32  // a narrow result's matches, in order
	hit     []uint64 // a broad result's matches (rows is nil)
	// due are the rows of a broad result judged at a clock filter's at
	// whose facet's Num is in (at, until], by Num: all the filter can drop
	// until then. A keystroke of a later second (at most until) judges
	// only these again: at a million sessions, judging every match again
	// was half a broad keystroke's time in Go (~4.5 ms of ~8).
	due   []due
	until int64 // 0: due was not noted
}

// due is a row a clock filter may drop once its instant reaches num.
type due struct {
	num int64
	row int32
}

// size is what m holds, in 4-byte units (a row of rows).
func (m *memo) size() int { return len(m.rows) + 2*len(m.hit) + 3*len(m.due) }

// broadFrom is the number of matches from which a result is kept as a
// bitmap: beyond n/32 rows the bitmap (n/8 bytes) is the smaller, and the
// rows in order are no longer few enough to search again one by one.
func broadFrom(n int) int { return n/32 + 1 }

// Find answers q. sortFallback is used when q.Sort is unknown.
func (t *Table[T]) Find(q Query[T], sortFallback string) Result[T] {
	s := t.cur.Load()
	if _, ok := s.orders[q.Sort]; !ok {
		q.Sort = sortFallback
	}
	if ls := t.loading.Load(); ls != nil {
		if ls.src != nil {
			if res, ok := ls.src(q); ok {
				return res
			}
		}
		<-ls.done
		s = t.cur.Load()
	}
	m := t.matches(s, q)
	res := Result[T]{Total: m.total, Items: []T{}}
	off := max(q.Offset, 0)
	if off >= m.total || q.Limit <= 0 {
		return res
	}
	res.Items = make([]T, 0, min(q.Limit, m.total-off))
	if m.hit != nil && m.total == s.n { // every row: the window is the order's
		o := t.inOrder(s, q)
		for k := off; k < off+cap(res.Items); k++ {
			res.Items = append(res.Items, s.at(o.nth(k)))
		}
		return res
	}
	seen := 0
	t.each(s, m, q, func(i int32) bool {
		if seen++; seen > off {
			res.Items = append(res.Items, s.at(i))
		}
		return len(res.Items) < cap(res.Items)
	})
	return res
}

// Each calls fn with every row matching q, in order, from one version of
// the table (q.Offset and q.Limit are ignored), and stops at fn's first
// error. It is Find for an export: at a million rows, a Find of them all
// copied every row into one slice before the first was written out.
func (t *Table[T]) Each(q Query[T], sortFallback string, fn func(T) error) error {
	s, q := t.walk(q, sortFallback)
	var err error
	t.each(s, t.matches(s, q), q, func(i int32) bool {
		err = fn(s.at(i))
		return err == nil
	})
	return err
}

// walk is what Each and EachStored read: the current snapshot once a load
// is in, and q with its sort, sortFallback when the table has no such
// order.
func (t *Table[T]) walk(q Query[T], sortFallback string) (*snapshot[T], Query[T]) {
	t.wait()
	s := t.cur.Load()
	if _, ok := s.orders[q.Sort]; !ok {
		q.Sort = sortFallback
	}
	return s, q
}

// EachStored calls fn with every row matching q, in the order the table
// stores them rather than q's, until fn returns false; q.Desc, q.Offset and
// q.Limit are ignored (q.Sort only names the memo, as in Each). It is for
// walks that only count or collect, like the select-all dialog's summary:
// read front to back, a million rows took a fifth of the time of the same
// walk in sort order, which jumps across the table for every row. fn gets
// a row valid until its next call, sharing the published row's strings
// and pointers: it must not write through them.
func (t *Table[T]) EachStored(q Query[T], sortFallback string, fn func(*T) bool) {
	s, q := t.walk(q, sortFallback)
	m := t.matches(s, q)
	var r T // one row for the walk: fn is unknown, so each row it gets is on the heap
	row := func(i int32) *T {
		s.get(s.chunks[i>>chunkShift], int(i&chunkMask), &r)
		return &r
	}
	if m.hit == nil {
		rows := slices.Clone(m.rows)
		slices.Sort(rows)
		for _, i := range rows {
			if !fn(row(i)) {
				return
			}
		}
		return
	}
	for w, word := range m.hit {
		for ; word != 0; word &= word - 1 {
			if !fn(row(int32(w*64 + bits.TrailingZeros64(word)))) {
				return
			}
		}
	}
}

// each calls fn with m's rows in q's order until fn returns false. A broad
// result's are found by walking the whole order and testing each row's
// bit, so a window deep in one costs its offset (~1 ms at 500,000).
func (t *Table[T]) each(s *snapshot[T], m *memo, q Query[T], fn func(int32) bool) {
	if m.hit == nil {
		for _, i := range m.rows {
			if !fn(i) {
				return
			}
		}
		return
	}
	o := t.inOrder(s, q)
	for k := range o.perm {
		if i := o.nth(k); m.hit[i/64]&(1<<(i%64)) != 0 && !fn(i) {
			return
		}
	}
}

// inOrder is q's sort order over s: its permutation read from the start,
// or from the end when q.Desc, but with the rows whose key is blank (the
// last of the permutation, see blankNum) last either way.
type inOrder struct {
	perm   []int32
	desc   bool
	filled int // rows before the blank ones
}

func (t *Table[T]) inOrder(s *snapshot[T], q Query[T]) inOrder {
	o := inOrder{perm: t.order(s, q.Sort), desc: q.Desc}
	o.filled = len(o.perm)
	if !q.Desc {
		return o // the blanks are last already
	}
	// Where the blanks begin, found by ~20 rows' keys at a million rather
	// than kept beside each order (a delta patches an order; see patch);
	// one key when the last row is not blank, as in every order by time.
	key := t.spec.Sorts[q.Sort]
	var r T
	blank := func(k int) bool {
		i := o.perm[k]
		s.get(s.chunks[i>>chunkShift], int(i&chunkMask), &r)
		return key(&r).Num == blankNum
	}
	if len(o.perm) > 0 && blank(len(o.perm)-1) {
		o.filled = sort.Search(len(o.perm), blank)
	}
	return o
}

// nth is the k-th row in the order.
func (o inOrder) nth(k int) int32 {
	switch {
	case !o.desc:
		return o.perm[k]
	case k < o.filled:
		return o.perm[o.filled-1-k]
	default: // the blanks, from the end too: ties are by id, reversed
		return o.perm[len(o.perm)-1-(k-o.filled)]
	}
}

// matches is q's matching rows. A keystroke usually extends the last
// search: when a remembered result of the same filter and order has a
// needle the new one contains, only its rows can match, and the filter
// need not run again.
func (t *Table[T]) matches(s *snapshot[T], q Query[T]) *memo {
	needle := strings.ToLower(strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == 0 || r == '\n' { // separators in the blob
			return -1
		}
		return r
	}, q.Search)))
	key := q.FilterKey + "\x00" + q.Sort + "\x00" + boolKey(q.Desc)
	var base *memo
	t.mu.Lock()
	for _, m := range t.memos {
		if m.version != s.version || m.key != key || !strings.Contains(needle, m.needle) || m.at > q.FilterAt {
			continue
		}
		if m.needle == needle && m.at == q.FilterAt {
			base = m
			break
		}
		if base == nil || m.total < base.total || m.total == base.total && m.at > base.at {
			base = m
		}
	}
	t.mu.Unlock()
	// A base judged at an earlier FilterAt may hold rows the filter drops
	// now: the filter runs again over its rows.
	refilter := base != nil && base.at != q.FilterAt
	var m *memo
	switch {
	case base != nil && base.needle == needle && !refilter:
		return base
	case base != nil && base.hit == nil:
		// Narrow: its rows (at most broadFrom) are searched one by one,
		// in order. Scattered rows cost more each than one pass over the
		// blob, which is why a broad result is not.
		rows := s.narrow(base.rows, s.needleOf(needle), q, refilter)
		m = &memo{rows: rows, total: len(rows)}
	case base != nil:
		// Broad: only where base's bit is set (see searchIn).
		var hit []uint64
		if base.needle == needle {
			hit = slices.Clone(base.hit)
		} else {
			hit = s.searchIn(s.needleOf(needle), base.hit)
		}
		var soon []due
		var until int64
		switch {
		case !refilter:
			soon, until = base.due, base.until
		case q.FilterAt <= base.until:
			soon, until = s.refilter(q, hit, base.due), base.until
		default:
			soon, until = s.filter(q, hit)
		}
		m = t.result(s, q, hit, soon, until)
	default:
		m = t.scan(s, q, needle)
	}
	m.version, m.key, m.needle, m.at = s.version, key, needle, q.FilterAt
	t.remember(m, s.n)
	return m
}

// remember keeps m first among the remembered results, dropping the oldest
// beyond one table's worth of matches (4 bytes a row) and those of older
// versions.
func (t *Table[T]) remember(m *memo, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := []*memo{m}
	total := m.size()
	for _, o := range t.memos {
		if o.version != m.version || o.key == m.key && o.needle == m.needle || total+o.size() > rows+1 {
			continue
		}
		kept = append(kept, o)
		total += o.size()
	}
	t.memos = kept
}

// scan runs q over every row.
func (t *Table[T]) scan(s *snapshot[T], q Query[T], needle string) *memo {
	var hit []uint64
	if needle != "" {
		hit = s.search(needle)
	} else {
		hit = make([]uint64, (s.n+63)/64)
		for i := 0; i < s.n; i += 64 {
			hit[i/64] = 1<<min(64, s.n-i) - 1 // 1<<64 is 0 in Go: all ones
		}
	}
	var soon []due
	var until int64
	if q.KeepFacet != nil || q.Keep != nil {
		soon, until = s.filter(q, hit)
	}
	return t.result(s, q, hit, soon, until)
}

// filter clears the bits of hit whose rows q's filters reject. It reads
// the rows chunk by chunk, in parts on every core as search does: the
// sessions tab's default filter (active) runs over every row a broad
// search matches, which at 1,000,000 rows cost more than the search. For
// a clock filter (q.FilterAt) it returns the kept rows due to be dropped
// by until, the next countAhead (at most maxAhead of them; see memo.due).
func (s *snapshot[T]) filter(q Query[T], hit []uint64) (soon []due, until int64) {
	var mu sync.Mutex
	if q.FilterAt != 0 {
		until = q.FilterAt + int64(countAhead)
	}
	s.inParts(func(first int, chunks []*chunk[T]) {
		var r T
		var near []due
		for k, c := range chunks {
			base := (first + k) << chunkShift
			for j := range c.len() {
				i := base + j
				if hit[i/64]&(1<<(i%64)) == 0 {
					continue
				}
				if !s.keeps(q, c, j, &r) {
					hit[i/64] &^= 1 << (i % 64)
				} else if until != 0 { // a clock filter: the table has facets
					if n := c.nums[j]; n > q.FilterAt && n <= until {
						near = append(near, due{n, int32(i)})
					}
				}
			}
		}
		mu.Lock()
		soon = append(soon, near...)
		mu.Unlock()
	})
	slices.SortFunc(soon, func(a, b due) int { return cmp.Compare(a.num, b.num) })
	if len(soon) > maxAhead {
		// Keep the span the first maxAhead cover whole, as CountAfter does.
		until, soon = soon[maxAhead].num-1, soon[:maxAhead]
	}
	return slices.Clip(soon), until
}

// refilter is filter at a later q.FilterAt (at most the until of the
// earlier one's due) for hit, a subset of that earlier result: only the
// due rows it has passed can be dropped. It returns those still due.
func (s *snapshot[T]) refilter(q Query[T], hit []uint64, soon []due) []due {
	var r T
	passed, _ := slices.BinarySearchFunc(soon, q.FilterAt+1, func(d due, at int64) int { return cmp.Compare(d.num, at) })
	for _, d := range soon[:passed] {
		i := d.row
		if hit[i/64]&(1<<(i%64)) != 0 && !s.keeps(q, s.chunks[i>>chunkShift], int(i&chunkMask), &r) {
			hit[i/64] &^= 1 << (i % 64)
		}
	}
	var still []due
	for _, d := range soon[passed:] {
		if hit[d.row/64]&(1<<(d.row%64)) != 0 {
			still = append(still, d)
		}
	}
	return still
}

// keeps reports whether q's filters keep row j of chunk c; r is room to
// unpack the row into for Keep (one per caller: a row handed to an
// unknown function is on the heap).
func (s *snapshot[T]) keeps(q Query[T], c *chunk[T], j int, r *T) bool {
	if q.KeepFacet != nil && !q.KeepFacet(s.facetOf(c, j)) {
		return false
	}
	if q.Keep == nil {
		return true
	}
	s.get(c, j, r)
	return q.Keep(r)
}

// result is the memo of the rows hit marks: the bitmap itself when they
// are many, with the rows due by until (see memo.due), else the rows in
// q's order (a narrow result's rows are judged again one by one).
func (t *Table[T]) result(s *snapshot[T], q Query[T], hit []uint64, soon []due, until int64) *memo {
	t.mu.Lock()
	if t.used == nil {
		t.used = map[string]bool{}
	}
	t.used[q.Sort] = true
	t.mu.Unlock()
	t.order(s, q.Sort) // built now, for the windows
	total := 0
	for _, w := range hit {
		total += bits.OnesCount64(w)
	}
	m := &memo{hit: hit, total: total}
	if total >= broadFrom(s.n) {
		m.due, m.until = soon, until
		return m
	}
	rows := make([]int32, 0, total)
	t.each(s, m, q, func(i int32) bool {
		rows = append(rows, i)
		return true
	})
	return &memo{rows: rows, total: total}
}

// A needle is what a search looks for: its text, and which labels of
// the snapshot contain it (nil: none).
type needle struct {
	text   []byte
	labels []uint64 // a bit per label number
	width  int      // labels per row
}

// needleOf finds the labels that contain text: one pass over the distinct
// labels (at a million sessions ~100,000 of them, mostly people) instead
// of a pass over every row's.
func (s *snapshot[T]) needleOf(text string) needle {
	nd := needle{text: []byte(text), width: len(s.spec.Labels)}
	for c := range s.labels.n {
		if strings.Contains(s.labels.at(uint32(c)), text) {
			if nd.labels == nil {
				nd.labels = make([]uint64, (s.labels.n+63)/64)
			}
			nd.labels[c/64] |= 1 << (c % 64)
		}
	}
	return nd
}

// search marks (one bit a row) the rows whose text contains needle. One
// scan of a chunk's contiguous blob (vectorized by bytes.Index) beats 1,024
// separate strings.Contains calls on scattered strings by several times.
func (s *snapshot[T]) search(text string) []uint64 {
	hit := make([]uint64, (s.n+63)/64)
	nd := s.needleOf(text)
	s.inParts(func(first int, chunks []*chunk[T]) {
		for k, c := range chunks {
			c.search(nd, (first+k)<<chunkShift, hit)
		}
	})
	return hit
}

// inParts calls fn with runs of whole chunks (the first is chunk first of
// s) that together cover s: a large table in parts on every core, at once.
// A chunk is whole words of a hit bitmap, so parts never write the same
// word.
func (s *snapshot[T]) inParts(fn func(first int, chunks []*chunk[T])) {
	var wg sync.WaitGroup
	s.inStretches(func(first int, chunks []*chunk[T]) {
		if len(chunks) == len(s.chunks) { // one part: no goroutine
			fn(first, chunks)
			return
		}
		wg.Go(func() { fn(first, chunks) })
	})
	wg.Wait()
}

// inStretches calls fn, in order, with the runs of whole chunks inParts
// works on, one a core (one for a table under parallelRows rows).
func (s *snapshot[T]) inStretches(fn func(first int, chunks []*chunk[T])) {
	parts := min(runtime.GOMAXPROCS(0), s.n/parallelRows+1)
	if parts <= 1 {
		fn(0, s.chunks)
		return
	}
	step := (len(s.chunks) + parts - 1) / parts
	for lo := 0; lo < len(s.chunks); lo += step {
		fn(lo, s.chunks[lo:min(lo+step, len(s.chunks))])
	}
}

// parallelRows is about where splitting a search pays for its goroutines.
const parallelRows = 100_000

// search marks hit's bit base+j for each row j of c whose text or a label
// contains the needle.
func (c *chunk[T]) search(nd needle, base int, hit []uint64) {
	c.searchText(nd.text, base, hit)
	if nd.labels == nil {
		return
	}
	for j := range c.len() {
		for _, l := range c.labels[j*nd.width : j*nd.width+nd.width] {
			if nd.labels[l/64]&(1<<(l%64)) != 0 {
				i := base + j
				hit[i/64] |= 1 << (i % 64)
				break
			}
		}
	}
}

// has reports whether row j of c's text or a label contains the needle.
func (c *chunk[T]) has(nd needle, j int) bool {
	if nd.labels != nil {
		for _, l := range c.labels[j*nd.width : j*nd.width+nd.width] {
			if nd.labels[l/64]&(1<<(l%64)) != 0 {
				return true
			}
		}
	}
	return bytes.Contains(c.text(j), nd.text)
}

// searchText marks hit's bit base+j for each row j of c whose text
// contains needle.
func (c *chunk[T]) searchText(needle []byte, base int, hit []uint64) {
	row, pos := 0, 0
	for pos < len(c.blob) {
		j := bytes.Index(c.blob[pos:], needle)
		if j < 0 {
			return
		}
		abs := int32(pos + j)
		// The row holding abs, the last start <= abs: a few steps ahead
		// when hits are dense, else a binary search.
		for k := 0; k < 4 && row+1 < len(c.starts) && c.starts[row+1] <= abs; k++ {
			row++
		}
		if row+1 < len(c.starts) && c.starts[row+1] <= abs {
			r, found := slices.BinarySearch(c.starts[row:], abs)
			if !found {
				r--
			}
			row += r
		}
		i := base + row
		hit[i/64] |= 1 << (i % 64)
		row++
		if row >= len(c.starts) {
			return
		}
		pos = int(c.starts[row])
	}
}

// searchIn is search limited to the rows base marks, for a keystroke that
// narrows a broad result. A chunk where base marks most rows is scanned in
// one pass over its blob, and the hits kept where base is set; in one
// where it marks fewer, only those rows' texts are searched, one by one.
// At 1,000,000 sessions, "user01" then "user015" (a tenth, then a
// hundredth of the rows) were each a pass over every text; see
// BenchmarkNarrowingKeystrokes.
func (s *snapshot[T]) searchIn(nd needle, base []uint64) []uint64 {
	hit := make([]uint64, len(base))
	s.inParts(func(first int, chunks []*chunk[T]) {
		for k, c := range chunks {
			at := (first + k) << chunkShift // a multiple of 64: whole words
			words := base[at/64 : (at+len(c.starts)+63)/64]
			marked := 0
			for _, w := range words {
				marked += bits.OnesCount64(w)
			}
			if marked*denseShare > len(c.starts) {
				c.search(nd, at, hit)
				for w := range words {
					hit[at/64+w] &= words[w]
				}
				continue
			}
			for w, word := range words {
				for ; word != 0; word &= word - 1 {
					j := w*64 + bits.TrailingZeros64(word)
					if c.has(nd, j) {
						hit[at/64+w] |= 1 << (j % 64)
					}
				}
			}
		}
	})
	return hit
}

// denseShare: a chunk whose rows base marks more than one in denseShare of
// is searched in one pass. One row's text searched alone costs about what
// two or three rows cost in a pass over the blob.
const denseShare = 3

// narrow keeps, in order, the rows of base whose text contains needle and,
// with refilter, that q's filters keep.
func (s *snapshot[T]) narrow(base []int32, nd needle, q Query[T], refilter bool) []int32 {
	out := make([]int32, 0, len(base)/4)
	var r T
	for _, i := range base {
		c, j := s.chunks[i>>chunkShift], int(i&chunkMask)
		if c.has(nd, j) && (!refilter || s.keeps(q, c, j, &r)) {
			out = append(out, i)
		}
	}
	return out
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
