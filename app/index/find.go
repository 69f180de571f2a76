package index

import (
	"bytes"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Query is one list request.
type Query[T any] struct {
	Search string // case-insensitive substring; empty matches all
	// Keep filters rows; FilterKey names it for the memo (rows kept by the
	// same FilterKey must be the same).
	Keep func(*T) bool
	// KeepFacet filters on the row's facet (see Spec.Facet); cheaper than
	// Keep. Both may be set.
	KeepFacet func(Key) bool
	FilterKey string
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

// memo is a remembered result: the matches, in order, of needle under key
// (filter, sort, direction) in one version of the table.
type memo struct {
	version uint64
	key     string
	needle  string
	matches []int32
}

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
	matches := t.matches(s, q)
	res := Result[T]{Total: len(matches)}
	off := max(q.Offset, 0)
	if off < len(matches) && q.Limit > 0 {
		end := min(off+q.Limit, len(matches))
		res.Items = make([]T, 0, end-off)
		for _, i := range matches[off:end] {
			res.Items = append(res.Items, *s.row(i))
		}
	}
	if res.Items == nil {
		res.Items = []T{}
	}
	return res
}

// Each calls fn with every row matching q, in order, from one version of
// the table (q.Offset and q.Limit are ignored), and stops at fn's first
// error. It is Find for an export: at a million rows, a Find of them all
// copied every row into one slice before the first was written out.
func (t *Table[T]) Each(q Query[T], sortFallback string, fn func(T) error) error {
	if ls := t.loading.Load(); ls != nil {
		<-ls.done
	}
	s := t.cur.Load()
	if _, ok := s.orders[q.Sort]; !ok {
		q.Sort = sortFallback
	}
	for _, i := range t.matches(s, q) {
		if err := fn(*s.row(i)); err != nil {
			return err
		}
	}
	return nil
}

// matches is q's matching rows in order. A keystroke usually extends the
// last search: when a remembered result of the same filter and order has a
// needle the new one contains, only its rows are searched again.
func (t *Table[T]) matches(s *snapshot[T], q Query[T]) []int32 {
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
		if m.version != s.version || m.key != key || !strings.Contains(needle, m.needle) {
			continue
		}
		if m.needle == needle {
			base = m
			break
		}
		if base == nil || len(m.matches) < len(base.matches) {
			base = m
		}
	}
	t.mu.Unlock()
	var matches []int32
	switch {
	case base != nil && base.needle == needle:
		return base.matches
	case base != nil && len(base.matches) <= s.n/4:
		// Scattered rows cost more each than one pass over the blob, so
		// only a narrow enough base is searched row by row.
		matches = s.narrow(base.matches, []byte(needle))
	default:
		matches = t.scan(s, q, needle)
	}
	t.remember(&memo{version: s.version, key: key, needle: needle, matches: matches}, s.n)
	return matches
}

// remember keeps m first among the remembered results, dropping the oldest
// beyond one table's worth of matches (4 bytes a row) and those of older
// versions.
func (t *Table[T]) remember(m *memo, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := []*memo{m}
	total := len(m.matches)
	for _, o := range t.memos {
		if o.version != m.version || o.key == m.key && o.needle == m.needle || total+len(o.matches) > rows+1 {
			continue
		}
		kept = append(kept, o)
		total += len(o.matches)
	}
	t.memos = kept
}

// scan runs q over every row in the order's sequence.
func (t *Table[T]) scan(s *snapshot[T], q Query[T], needle string) []int32 {
	t.mu.Lock()
	if t.used == nil {
		t.used = map[string]bool{}
	}
	t.used[q.Sort] = true
	t.mu.Unlock()
	perm := t.order(s, q.Sort)
	var hit []uint64
	room := len(perm)
	if needle != "" {
		hit = s.search(needle)
		room = 0
		for _, w := range hit { // sized once: a dense result would grow ~20 times
			room += bits.OnesCount64(w)
		}
	}
	matches := make([]int32, 0, room)
	n := len(perm)
	for k := 0; k < n; k++ {
		i := perm[k]
		if q.Desc {
			i = perm[n-1-k]
		}
		if hit != nil && hit[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		if q.KeepFacet != nil && !q.KeepFacet(s.facetAt(i)) {
			continue
		}
		if q.Keep != nil && !q.Keep(s.row(i)) {
			continue
		}
		matches = append(matches, i)
	}
	return matches
}

// search marks (one bit a row) the rows whose text contains needle. One
// scan of a chunk's contiguous blob (vectorized by bytes.Index) beats 1,024
// separate strings.Contains calls on scattered strings by several times.
// A large table is scanned in parts (runs of whole chunks) on every core.
func (s *snapshot[T]) search(needle string) []uint64 {
	hit := make([]uint64, (s.n+63)/64)
	nb := []byte(needle)
	parts := min(runtime.GOMAXPROCS(0), s.n/parallelRows+1)
	if parts <= 1 {
		s.searchChunks(nb, s.chunks, 0, hit)
		return hit
	}
	step := (len(s.chunks) + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := 0; lo < len(s.chunks); lo += step {
		wg.Go(func() { s.searchChunks(nb, s.chunks[lo:min(lo+step, len(s.chunks))], lo, hit) })
	}
	wg.Wait()
	return hit
}

// parallelRows is about where splitting a search pays for its goroutines.
const parallelRows = 100_000

// searchChunks marks the rows of chunks (the first is chunk first of s)
// whose text contains needle.
func (s *snapshot[T]) searchChunks(needle []byte, chunks []*chunk[T], first int, hit []uint64) {
	for k, c := range chunks {
		c.search(needle, (first+k)<<chunkShift, hit)
	}
}

// search marks hit's bit base+j for each row j of c whose text contains
// needle.
func (c *chunk[T]) search(needle []byte, base int, hit []uint64) {
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

// narrow keeps, in order, the rows of base whose text contains needle.
func (s *snapshot[T]) narrow(base []int32, needle []byte) []int32 {
	out := make([]int32, 0, len(base)/4)
	for _, i := range base {
		if bytes.Contains(s.text(i), needle) {
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
