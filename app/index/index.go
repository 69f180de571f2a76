// Package index answers the UI's list queries — search, filter, sort and a
// window of rows — from decrypted cache rows held in memory.
//
// Why in memory: the personal fields are sealed in the cache, so SQLite can
// neither search nor sort them. The rows are decrypted once when the cache is
// opened and then kept current with what each sync brings, and every query is
// a scan in memory: at 100,000 sessions a new search costs a few milliseconds
// and paging through its result costs only the window.
//
// How: a Table holds an immutable snapshot (rows, a lowercase search text per
// row, and per sort key a sorted permutation built on first use). Writers
// build a new snapshot and swap it in, so readers never wait for a sync. The
// last query's matches are remembered, so scrolling through the same query
// does not scan again.
//
// Loading: decrypting 100,000 rows takes longer than a user should wait for
// the first screen. A table can be marked as loading (BeginLoad) with a
// Source that answers the queries it can (the cache answers the default
// sessions view in SQL over its clear columns, decrypting only the window);
// everything else waits until the rows arrive (Adopt or Replace).
package index

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Spec describes one kind of row.
type Spec[T any] struct {
	ID func(*T) string
	// Text returns what a search matches against; it is lowercased once.
	Text func(*T) string
	// Sorts maps each sort key to the value rows are ordered by. Values are
	// extracted once per snapshot, then compared; ties are broken by id.
	Sorts map[string]func(*T) Key
	// Facet, if set, extracts the few values filters look at into a compact
	// array. Filtering 100,000 rows through it touches 2 MB instead of the
	// rows themselves (tens of MB), which is most of a query's time.
	Facet func(*T) Key
}

// Key is a sort value: Num first, then Str.
type Key struct {
	Num int64
	Str string
}

func compareKeys(a, b Key) int {
	if c := cmp.Compare(a.Num, b.Num); c != 0 {
		return c
	}
	return strings.Compare(a.Str, b.Str)
}

// Table is an in-memory, searchable copy of one kind of row.
type Table[T any] struct {
	spec    Spec[T]
	cur     atomic.Pointer[snapshot[T]]
	loading atomic.Pointer[loadState[T]]

	mu     sync.Mutex // guards last, counts and used
	last   *memo
	counts map[string]countMemo
	used   map[string]bool // sort keys queried: rebuilt ahead after a change
}

type countMemo struct {
	version uint64
	n       int
}

type snapshot[T any] struct {
	version uint64
	rows    []T
	text    []string
	blob    []byte  // every text, lowercased, each followed by a 0 byte
	starts  []int32 // where row i's text begins in blob
	facet   []Key
	byID    map[string]int32
	orders  map[string]*order
}

type order struct {
	once sync.Once
	perm []int32
}

type memo struct {
	version uint64
	key     string
	matches []int32
}

// New returns an empty table.
func New[T any](spec Spec[T]) *Table[T] {
	t := &Table[T]{spec: spec}
	t.cur.Store(t.build(0, nil, nil))
	return t
}

func (t *Table[T]) build(version uint64, rows []T, text []string) *snapshot[T] {
	s := &snapshot[T]{version: version, rows: rows, text: text, byID: make(map[string]int32, len(rows)), orders: map[string]*order{}}
	if s.text == nil {
		s.text = make([]string, len(rows))
		for i := range rows {
			s.text[i] = strings.ToLower(t.spec.Text(&rows[i]))
		}
	}
	for i := range rows {
		s.byID[t.spec.ID(&rows[i])] = int32(i)
	}
	size := 0
	for _, x := range s.text {
		size += len(x) + 1
	}
	s.blob = make([]byte, 0, size)
	s.starts = make([]int32, len(rows))
	for i, x := range s.text {
		s.starts[i] = int32(len(s.blob))
		s.blob = append(s.blob, x...)
		s.blob = append(s.blob, 0)
	}
	if t.spec.Facet != nil {
		s.facet = make([]Key, len(rows))
		for i := range rows {
			s.facet[i] = t.spec.Facet(&rows[i])
		}
	}
	for k := range t.spec.Sorts {
		s.orders[k] = &order{}
	}
	return s
}

// Source answers q while the table is loading, in exactly the order and
// with exactly the totals Find would give once loaded. ok false means it
// cannot answer this query; Find then waits for the rows.
type Source[T any] func(q Query[T]) (res Result[T], ok bool)

type loadState[T any] struct {
	src  Source[T]
	done chan struct{}
}

// BeginLoad marks the table as loading: until Adopt or Replace, Find asks
// src (nil: none) and every other reader waits for the rows.
func (t *Table[T]) BeginLoad(src Source[T]) {
	if old := t.loading.Swap(&loadState[T]{src: src, done: make(chan struct{})}); old != nil {
		close(old.done)
	}
}

// Ready reports whether the table holds its rows (no load in progress).
func (t *Table[T]) Ready() bool { return t.loading.Load() == nil }

func (t *Table[T]) endLoad() {
	if ls := t.loading.Swap(nil); ls != nil {
		close(ls.done)
	}
}

func (t *Table[T]) wait() {
	if ls := t.loading.Load(); ls != nil {
		<-ls.done
	}
}

// Replace swaps the whole content.
func (t *Table[T]) Replace(rows []T) {
	t.Adopt(slices.Clone(rows))
}

// Adopt is Replace without the copy: the table owns rows from now on.
// It ends a load.
func (t *Table[T]) Adopt(rows []T) {
	old := t.cur.Load()
	t.swap(t.build(old.version+1, rows, nil))
	t.endLoad()
}

// swap publishes s and, in the background, builds the sort orders the UI has
// been using, so that the first query after a sync does not pay for a sort
// of the whole table.
func (t *Table[T]) swap(s *snapshot[T]) {
	t.cur.Store(s)
	t.mu.Lock()
	keys := make([]string, 0, len(t.used))
	for k := range t.used {
		keys = append(keys, k)
	}
	t.mu.Unlock()
	if len(keys) > 0 {
		go func() {
			for _, k := range keys {
				t.order(s, k)
			}
		}()
	}
}

// Upsert adds or updates rows by id. It reports whether anything was given.
func (t *Table[T]) Upsert(items []T) bool {
	if len(items) == 0 {
		return false
	}
	t.wait()
	old := t.cur.Load()
	rows := slices.Clone(old.rows)
	text := slices.Clone(old.text)
	pos := make(map[string]int32, len(items))
	for i := range items {
		id := t.spec.ID(&items[i])
		lower := strings.ToLower(t.spec.Text(&items[i]))
		if j, ok := old.byID[id]; ok {
			rows[j], text[j] = items[i], lower
		} else if j, ok := pos[id]; ok {
			rows[j], text[j] = items[i], lower
		} else {
			pos[id] = int32(len(rows))
			rows = append(rows, items[i])
			text = append(text, lower)
		}
	}
	t.swap(t.build(old.version+1, rows, text))
	return true
}

// Len is the number of rows.
func (t *Table[T]) Len() int {
	t.wait()
	return len(t.cur.Load().rows)
}

// Get returns the row with id.
func (t *Table[T]) Get(id string) (T, bool) {
	t.wait()
	s := t.cur.Load()
	if i, ok := s.byID[id]; ok {
		return s.rows[i], true
	}
	var zero T
	return zero, false
}

// CountFacet returns how many rows have a facet keep accepts. The answer is
// remembered under name until the content changes; name must identify keep.
func (t *Table[T]) CountFacet(name string, keep func(Key) bool) int {
	t.wait()
	s := t.cur.Load()
	t.mu.Lock()
	if c, ok := t.counts[name]; ok && c.version == s.version {
		t.mu.Unlock()
		return c.n
	}
	t.mu.Unlock()
	n := 0
	for _, f := range s.facet {
		if keep(f) {
			n++
		}
	}
	t.mu.Lock()
	if t.counts == nil {
		t.counts = map[string]countMemo{}
	}
	t.counts[name] = countMemo{version: s.version, n: n}
	t.mu.Unlock()
	return n
}

// Count returns how many rows satisfy keep.
func (t *Table[T]) Count(keep func(*T) bool) int {
	t.wait()
	s := t.cur.Load()
	n := 0
	for i := range s.rows {
		if keep(&s.rows[i]) {
			n++
		}
	}
	return n
}

// All returns every row. The slice is shared with the table: read it, never
// write to it.
func (t *Table[T]) All() []T {
	t.wait()
	return t.cur.Load().rows
}

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
	needle := strings.ToLower(strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == 0 || r == '\n' { // separators in the blob
			return -1
		}
		return r
	}, q.Search)))
	key := q.FilterKey + "\x00" + needle + "\x00" + q.Sort + "\x00" + boolKey(q.Desc)

	var matches []int32
	t.mu.Lock()
	if m := t.last; m != nil && m.version == s.version && m.key == key {
		matches = m.matches
	}
	t.mu.Unlock()
	if matches == nil {
		t.mu.Lock()
		if t.used == nil {
			t.used = map[string]bool{}
		}
		t.used[q.Sort] = true
		t.mu.Unlock()
		perm := t.order(s, q.Sort)
		var hit []bool
		if needle != "" {
			hit = s.search(needle)
		}
		matches = make([]int32, 0, min(len(perm), 1024))
		n := len(perm)
		for k := 0; k < n; k++ {
			i := perm[k]
			if q.Desc {
				i = perm[n-1-k]
			}
			if hit != nil && !hit[i] {
				continue
			}
			if q.KeepFacet != nil && !q.KeepFacet(s.facet[i]) {
				continue
			}
			if q.Keep != nil && !q.Keep(&s.rows[i]) {
				continue
			}
			matches = append(matches, i)
		}
		t.mu.Lock()
		t.last = &memo{version: s.version, key: key, matches: matches}
		t.mu.Unlock()
	}

	res := Result[T]{Total: len(matches)}
	off := max(q.Offset, 0)
	lim := q.Limit
	if off < len(matches) && lim > 0 {
		end := min(off+lim, len(matches))
		res.Items = make([]T, 0, end-off)
		for _, i := range matches[off:end] {
			res.Items = append(res.Items, s.rows[i])
		}
	}
	if res.Items == nil {
		res.Items = []T{}
	}
	return res
}

// search marks the rows whose text contains needle. One scan of the
// contiguous blob (vectorized by bytes.Index) beats 100,000 separate
// strings.Contains calls on scattered strings by several times.
func (s *snapshot[T]) search(needle string) []bool {
	hit := make([]bool, len(s.rows))
	nb := []byte(needle)
	pos := 0
	for pos < len(s.blob) {
		j := bytes.Index(s.blob[pos:], nb)
		if j < 0 {
			break
		}
		abs := int32(pos + j)
		// The row holding abs: the last start <= abs.
		row, found := slices.BinarySearch(s.starts, abs)
		if !found {
			row--
		}
		hit[row] = true
		if row+1 < len(s.starts) {
			pos = int(s.starts[row+1])
		} else {
			break
		}
	}
	return hit
}

// Forget drops the remembered query, for callers whose Keep depends on
// something other than the rows (such as the time).
func (t *Table[T]) Forget() {
	t.mu.Lock()
	t.last = nil
	t.mu.Unlock()
}

// Warm builds the sorted permutation for key ahead of the first query.
func (t *Table[T]) Warm(key string) {
	s := t.cur.Load()
	if _, ok := s.orders[key]; ok {
		t.order(s, key)
	}
}

func (t *Table[T]) order(s *snapshot[T], key string) []int32 {
	o := s.orders[key]
	o.once.Do(func() {
		perm := make([]int32, len(s.rows))
		keys := make([]Key, len(s.rows))
		ids := make([]string, len(s.rows))
		extract := t.spec.Sorts[key]
		for i := range perm {
			perm[i] = int32(i)
			keys[i] = extract(&s.rows[i])
			ids[i] = t.spec.ID(&s.rows[i])
		}
		slices.SortFunc(perm, func(a, b int32) int {
			if c := compareKeys(keys[a], keys[b]); c != 0 {
				return c
			}
			return strings.Compare(ids[a], ids[b])
		})
		o.perm = perm
	})
	return o.perm
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
