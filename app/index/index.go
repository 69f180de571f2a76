// Package index answers the UI's list queries — search, filter, sort and a
// window of rows — from decrypted cache rows held in memory.
//
// Why in memory: the personal fields are sealed in the cache, so SQLite can
// neither search nor sort them. The rows are decrypted once when the cache is
// opened and then kept current with what each sync brings, and every query is
// a scan in memory: at 100,000 sessions a new search costs a few milliseconds
// and paging through its result costs only the window.
//
// How: a Table holds an immutable snapshot (rows in chunks, packed into
// short records where the Spec says how (pack.go), with their lowercase
// search text, their labels' numbers and compact facets, ids, and per sort
// key a sorted permutation built on first use, on every core). Writers
// derive a new snapshot, copying only the chunks a delta touches (see
// Upsert), and swap it in, so readers never wait for a sync. Recent
// queries' matches are remembered (a broad result as a bitmap, one bit a
// row, its windows read along the order), so scrolling through the same
// query does not scan again and a keystroke that extends the search keeps
// only rows the last one matched, without running its filters again.
//
// Loading: decrypting 100,000 rows takes longer than a user should wait for
// the first screen. A table can be marked as loading (BeginLoad) with a
// Source that answers the queries it can (the cache answers the default
// sessions view in SQL over its clear columns, decrypting only the window);
// everything else waits until the rows arrive (Adopt or Replace).
package index

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Spec describes one kind of row.
type Spec[T any] struct {
	ID func(*T) string
	// Text returns what a search matches against in each row's own text
	// (an address); it is lowercased once.
	Text func(*T) string
	// Labels are texts many rows share (a person, a browser, a place): a
	// search also matches a row when one of its labels contains the
	// needle. Each distinct label is kept and searched once, lowercase; a
	// row holds only its labels' numbers, 4 bytes each. At a million
	// sessions the texts in full were ~90 MB, and a search's pass over
	// them 25-30 ms.
	Labels []Label[T]
	// Pack and Unpack, if set, keep the rows packed (see Packer): Pack
	// writes the row's id first, as a Str, and its Text with Packer.Text;
	// Unpack reads back what Pack wrote, in the same order, setting every
	// field of the row.
	Pack   func(p *Packer, r *T)
	Unpack func(u Unpacker, r *T)
	// Sorts maps each sort key to the value rows are ordered by. Values are
	// extracted once per snapshot, then compared; ties are broken by id.
	Sorts map[string]func(*T) Key
	// Facet, if set, extracts the few values filters look at into a compact
	// array. Filtering 100,000 rows through it touches 2 MB instead of the
	// rows themselves (tens of MB), which is most of a query's time.
	Facet func(*T) Key
	// Tally, if set, reads what walks over every row need (Table.Tallies,
	// the overview) from the head of a packed row's record, which Pack
	// writes first after the id: unpacking a million sessions takes
	// ~110 ms, reading their tallies a few tens. Kept beside the records
	// instead, tallies were 17 bytes a row, the same values twice.
	Tally func(u Unpacker) Tally
}

// Label is one label of a row: one text, or the texts of one thing that
// always go together (a person's e-mail and name), kept as one label with
// a 0 byte between them (which a typed search does not hold, so no match
// spans two): one number a row instead of two.
type Label[T any] []func(*T) string

// Tally is a row's few values for whole-table walks: an instant (Unix
// nanoseconds), a flag, and two values many rows share, as their symbols
// (Walks.Text reads one). What each means is the kind's (kinds.go).
type Tally struct {
	At   int64
	Flag bool
	A, B Sym
}

// Sym is the number of a text many rows share, in one snapshot of a
// table: below Walks.Syms. Counted by it, the overview's countries and
// platforms are an array's increments; counted by the text, a map's,
// which were a third of the overview at a million sessions.
type Sym uint32

// Walks are every row's facet and tally, in walks to run at once (see
// Table.Tallies), with what reads their symbols.
type Walks struct {
	Parts []iter.Seq2[Key, Tally]
	Syms  int // every Sym in a tally is below it
	Text  func(Sym) string
}

// Key is a sort value: Num first, then Str.
type Key struct {
	Num int64
	Str string
}

// blankNum is the Num of a blank value's key (textKey): it sorts after
// every other key, so an order's blank rows are its last. Find reads them
// last when the order is read descending too, as a spreadsheet does: a
// million sessions sorted by place, either way, begin with places, not
// with the ~143,000 whose place is not known (inOrder).
const blankNum = math.MaxInt64

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
	wmu     sync.Mutex // one writer at a time derives the next snapshot

	mu     sync.Mutex // guards memos, counts and used
	memos  []*memo    // most recent first
	counts map[string]countMemo
	used   map[string]bool // sort keys queried: kept built across changes

	scratchFreed func(bytes int) // OnScratchFreed; set before the table is shared
}

// OnScratchFreed sets f to be told, each time a sort order has been built,
// how many bytes of scratch that left as garbage: ~48 bytes a row (each
// row's key, id and id prefix), 48 MB at a million. The scratch was live
// at the collections during the sort, so a soft memory limit that follows
// the live heap (syncer.HoldNearLive) stays that high until the next
// collection, up to two minutes later in an idle app: 411-413 MiB RSS,
// then 361 MiB, after a first sort by Location at a million. f must not
// block. Set it before the table is shared.
func (t *Table[T]) OnScratchFreed(f func(bytes int)) { t.scratchFreed = f }

// sortScratch is what sortRows allocates a row besides the order it
// returns: its key, its id's string header and the id's 8-byte prefix.
const sortScratch = int(unsafe.Sizeof(Key{}) + unsafe.Sizeof("") + unsafe.Sizeof(uint64(0)))

type countMemo struct {
	version uint64
	n       int
	// CountAfter's: n was counted at at, and ahead holds, in order, the
	// Nums of the rows counted that fall in (at, until].
	at, until int64
	ahead     []int64
}

// New returns an empty table.
func New[T any](spec Spec[T]) *Table[T] {
	t := &Table[T]{spec: spec}
	t.cur.Store(t.build(0, nil))
	return t
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
	t.wmu.Lock()
	old := t.cur.Load()
	t.publish(t.build(old.version+1, rows), nil)
	t.wmu.Unlock()
	t.endLoad()
}

// publish makes s current. The sort orders the UI has been using are made
// ready first (patched ones given, the rest sorted), so that no query after
// a sync waits for a sort of the whole table; readers meanwhile see the
// previous snapshot. While loading, the rows are wanted sooner than orders.
func (t *Table[T]) publish(s *snapshot[T], patched map[string][]int32) {
	for k, perm := range patched {
		s.orders[k].set(perm)
	}
	if t.Ready() {
		t.mu.Lock()
		keys := make([]string, 0, len(t.used))
		for k := range t.used {
			keys = append(keys, k)
		}
		t.mu.Unlock()
		for _, k := range keys {
			t.order(s, k)
		}
	}
	t.cur.Store(s)
}

// Len is the number of rows.
func (t *Table[T]) Len() int {
	t.wait()
	return t.cur.Load().n
}

// Get returns the row with id.
func (t *Table[T]) Get(id string) (T, bool) {
	t.wait()
	s := t.cur.Load()
	if i, ok := s.lookup(id); ok {
		return s.at(i), true
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
	// In parts on every core, as a search: at a million rows one pass
	// took a keystroke's worth of time.
	var total atomic.Int64
	s.inParts(func(_ int, chunks []*chunk[T]) {
		n := 0
		for _, c := range chunks {
			for j := range c.nums {
				if keep(s.facetOf(c, j)) {
					n++
				}
			}
		}
		total.Add(int64(n))
	})
	n := int(total.Load())
	t.rememberCount(name, countMemo{version: s.version, n: n})
	return n
}

// rememberCount keeps c under name, and a few counts, not one for every
// name ever asked (a name may carry the filter's values).
func (t *Table[T]) rememberCount(name string, c countMemo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil || len(t.counts) >= maxCounts {
		t.counts = map[string]countMemo{}
	}
	t.counts[name] = c
}

// maxCounts bounds the counts CountFacet remembers.
const maxCounts = 16

// CountAfter returns how many rows keep accepts whose facet's Num is after
// at: a count that only falls as at passes their Nums (the active
// sessions: Num is a session's expiry, keep its status). It is remembered
// under name until the content changes, with the Nums counted that fall
// in the next countAhead after at (at most maxAhead of them): a later at
// in that span is answered by taking off those it has passed. Counted
// anew each second instead, the active sessions were a walk of every row,
// 2.6-3.9 ms at a million, on the first List of each second: a keystroke's.
func (t *Table[T]) CountAfter(name string, keep func(Key) bool, at int64) int {
	t.wait()
	s := t.cur.Load()
	t.mu.Lock()
	c, ok := t.counts[name]
	t.mu.Unlock()
	if ok && c.version == s.version && c.at <= at && at <= c.until {
		passed, _ := slices.BinarySearch(c.ahead, at+1) // the Nums <= at
		return c.n - passed
	}
	until := at + int64(countAhead)
	var (
		mu    sync.Mutex
		n     int
		ahead []int64
	)
	s.inParts(func(_ int, chunks []*chunk[T]) {
		k, near := 0, []int64(nil)
		for _, c := range chunks {
			for j := range c.nums {
				if f := s.facetOf(c, j); f.Num > at && keep(f) {
					k++
					if f.Num <= until {
						near = append(near, f.Num)
					}
				}
			}
		}
		mu.Lock()
		n, ahead = n+k, append(ahead, near...)
		mu.Unlock()
	})
	slices.Sort(ahead)
	if len(ahead) > maxAhead {
		// Keep the span the first maxAhead cover whole: every Num up to
		// the next one's is among them.
		until, ahead = ahead[maxAhead]-1, slices.Clip(ahead[:maxAhead])
	}
	t.rememberCount(name, countMemo{version: s.version, n: n, at: at, until: until, ahead: ahead})
	return n
}

// countAhead and maxAhead bound what CountAfter keeps to answer later
// instants: the next ten minutes, at most 64k Nums (512 KB).
const (
	countAhead = 10 * time.Minute
	maxAhead   = 1 << 16
)

// Count returns how many rows satisfy keep.
func (t *Table[T]) Count(keep func(*T) bool) int {
	n := 0
	for r := range t.All() {
		if keep(r) {
			n++
		}
	}
	return n
}

// All walks every row of the table as it is now (one snapshot, however
// long the walk). The row yielded is valid until the next: its strings
// and pointers are the table's own, shared with every reader, so read
// them, never write through them. A walk copies no table: at a million
// rows a copy of them all was 272 MB.
func (t *Table[T]) All() iter.Seq[*T] {
	t.wait()
	s := t.cur.Load()
	return func(yield func(*T) bool) {
		var r T
		for _, c := range s.chunks {
			for j := range c.len() {
				s.get(c, j, &r)
				if !yield(&r) {
					return
				}
			}
		}
	}
}

// Tallies gives every row's facet and tally (Spec.Facet, Spec.Tally and
// Spec.Pack must be set) without decoding a row, as walks to run at once:
// the table in stretches of whole chunks, one a core as a search splits
// it (one walk for a small table), each in stored order, all of one
// snapshot. At a million sessions the overview took 87-90 ms with one
// walk, 65 ms with two (BenchmarkCompute, two cores); 21-36 ms with two
// once its walks counted symbols rather than texts.
func (t *Table[T]) Tallies() Walks {
	t.wait()
	s := t.cur.Load()
	w := Walks{Syms: s.syms.n, Text: func(c Sym) string { return s.syms.at(uint32(c)) }}
	s.inStretches(func(_ int, chunks []*chunk[T]) {
		w.Parts = append(w.Parts, func(yield func(Key, Tally) bool) {
			for _, c := range chunks {
				for j := range c.len() {
					if !yield(s.facetOf(c, j), t.spec.Tally(Unpacker{rec: c.record(j), syms: &s.syms})) {
						return
					}
				}
			}
		})
	})
	return w
}

// Forget drops the remembered query, for callers whose Keep depends on
// something other than the rows (such as the time).
func (t *Table[T]) Forget() {
	t.mu.Lock()
	t.memos = nil
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
		o.perm = t.sortRows(s, key, min(runtime.GOMAXPROCS(0), s.n/parallelSortRows+1))
		o.built.Store(true)
		if t.scratchFreed != nil {
			t.scratchFreed(s.n * sortScratch)
		}
	})
	return o.perm
}

// parallelSortRows is the least rows a part of a parallel sort has: below
// it the goroutines and the merge cost about what they save.
const parallelSortRows = 10_000

// sortRows returns the row numbers of s in key's order, ties broken by id.
// A first sort of 1,000,000 rows took 0.3 s (by user) to 1 s (by client)
// on one core, on the click of a column header, so the rows are split
// into parts, one a core: each extracts its rows' keys; keys that repeat
// are ranked (rankKeys); each part is sorted, then the sorted parts are
// merged in pairs (in parallel too) until one is left. The order is the one sort would give: the comparison is a total
// order as long as ids are unique, which they are in a table.
func (t *Table[T]) sortRows(s *snapshot[T], key string, parts int) []int32 {
	n := s.n
	perm := make([]int32, n)
	if n == 0 {
		return perm
	}
	keys := make([]Key, n)
	ids := make([]string, n)
	// Eight bytes of each id as a number break most ties without a string
	// comparison: a column of a few values (client, place, status) is
	// nearly all ties. They are the eight after the prefix every id of the
	// table shares, where ids start to differ: a type prefix ("ses_"), and
	// for platformd's sessions the high bits of their creation time, which
	// make the first eight bytes of a week's sessions nearly all equal.
	pre := make([]uint64, n)
	extract := t.spec.Sorts[key]
	compare := func(a, b int32) int {
		if c := compareKeys(keys[a], keys[b]); c != 0 {
			return c
		}
		if c := cmp.Compare(pre[a], pre[b]); c != 0 {
			return c
		}
		return strings.Compare(ids[a], ids[b])
	}
	parts = max(1, min(parts, n))
	bounds := make([]int, parts+1) // part k is perm[bounds[k]:bounds[k+1]]
	for k := range bounds {
		bounds[k] = k * n / parts
	}
	var wg sync.WaitGroup
	ref := s.idOf(0)
	shared := make([]int, parts) // per part: how much of ref all its ids share
	for k := range parts {
		lo, hi := bounds[k], bounds[k+1]
		wg.Go(func() {
			common := len(ref)
			var r T
			for i := lo; i < hi; i++ {
				s.get(s.chunks[i>>chunkShift], i&chunkMask, &r)
				perm[i], keys[i], ids[i] = int32(i), extract(&r), s.idOf(int32(i))
				common = commonPrefix(ref[:common], ids[i])
			}
			shared[k] = common
		})
	}
	wg.Wait()
	skip := slices.Min(shared)
	for k := range parts {
		lo, hi := bounds[k], bounds[k+1]
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				pre[i] = prefix8(ids[i][skip:])
			}
		})
	}
	wg.Wait()
	rankKeys(keys)
	for k := range parts {
		lo, hi := bounds[k], bounds[k+1]
		wg.Go(func() { slices.SortFunc(perm[lo:hi], compare) })
	}
	wg.Wait()
	if parts == 1 {
		return perm
	}
	// Each round merges parts 0 and 1, 2 and 3, … from perm into buf (an
	// odd last part is copied), then the two swap.
	buf := make([]int32, n)
	for len(bounds) > 2 {
		next := []int{0}
		for k := 0; k+1 < len(bounds); k += 2 {
			if k+2 == len(bounds) {
				copy(buf[bounds[k]:], perm[bounds[k]:bounds[k+1]])
				next = append(next, bounds[k+1])
				continue
			}
			lo, mid, hi := bounds[k], bounds[k+1], bounds[k+2]
			wg.Go(func() { merge(buf[lo:hi], perm[lo:mid], perm[mid:hi], compare) })
			next = append(next, hi)
		}
		wg.Wait()
		perm, buf, bounds = buf, perm, next
	}
	return perm
}

// prefix8 is s's first eight bytes as a big-endian number, zeros after a
// shorter s: two ids whose numbers differ (taken after a prefix both
// share) are in the same order as the ids; equal numbers say nothing
// (compare the strings).
func prefix8(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

// commonPrefix is the length of the prefix a and b share.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// rankKeys replaces keys that carry text by their rank among the distinct
// keys, when there are few of those (a client, a place, a status: a few
// dozen at a million rows): the sort then compares two numbers where it
// compared two strings, equal nearly every time and so read to their end
// (the first sort by client cost three times the sort by person). The
// order of the keys is kept. Keys that are mostly distinct (times, people)
// are left as they are: ranking them would cost a sort of its own.
func rankKeys(keys []Key) {
	if !slices.ContainsFunc(keys, func(k Key) bool { return k.Str != "" }) {
		return // numbers alone compare as fast as their ranks
	}
	limit := len(keys)/8 + 1
	rank := map[Key]int64{}
	for i, k := range keys {
		if _, ok := rank[k]; !ok {
			// Mostly distinct already among the first rows: give up early.
			if len(rank) == limit || i >= 4096 && len(rank) > i/2 {
				return
			}
			rank[k] = 0
		}
	}
	distinct := make([]Key, 0, len(rank))
	for k := range rank {
		distinct = append(distinct, k)
	}
	slices.SortFunc(distinct, compareKeys)
	for i, k := range distinct {
		rank[k] = int64(i)
	}
	for i, k := range keys {
		keys[i] = Key{Num: rank[k]}
	}
}

// merge writes the sorted a and b, merged, into dst (len(a)+len(b)).
func merge(dst, a, b []int32, compare func(a, b int32) int) {
	i, j := 0, 0
	for k := range dst {
		if j == len(b) || i < len(a) && compare(a[i], b[j]) <= 0 {
			dst[k] = a[i]
			i++
		} else {
			dst[k] = b[j]
			j++
		}
	}
}

// comparer orders rows of s as order does, extracting keys as it goes (for
// the few comparisons of a patch).
func (t *Table[T]) comparer(s *snapshot[T], key string) func(a, b int32) int {
	extract := t.spec.Sorts[key]
	return func(a, b int32) int {
		ra, rb := s.at(a), s.at(b)
		if c := compareKeys(extract(&ra), extract(&rb)); c != 0 {
			return c
		}
		return strings.Compare(s.idOf(a), s.idOf(b))
	}
}
