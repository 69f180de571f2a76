package index

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// A snapshot is immutable once published, and is read without locks. Its
// rows and their columns live in chunks of chunkRows rows: a delta derives
// the next snapshot by copying only the chunks it touches and sharing the
// rest (copy-on-write), so at 1,000,000 rows a one-row delta copies one
// chunk, not the table. The columns are what a query touches, kept compact
// because at 1,000,000 rows every byte per row is a megabyte: the search
// text lives only in a chunk's blob (a row's text is derived from starts),
// a facet is an int64 and a small code into a dictionary of its few
// strings, and ids are found through an open-addressed table of row
// numbers (4 bytes a slot) instead of a map holding a string per row.
type snapshot[T any] struct {
	version uint64
	n       int         // rows
	chunks  []*chunk[T] // row i is row i&chunkMask of chunks[i>>chunkShift]
	spec    *Spec[T]
	dict    *facetDict
	syms    strTable // packed rows' shared values (Spec.Pack)
	labels  strTable // lowercase labels (Spec.Labels)
	ids     idTable
	orders  map[string]*order
}

// chunkRows is the unit a delta copies: small enough that a copied chunk
// of sessions is ~0.3 MB, large enough that the chunk directory and a
// search's per-chunk calls stay negligible (1,000 chunks at 1,000,000).
// A chunk is 16 whole 64-row words of a search's hit bitmap, so searches
// over different chunks never write the same word.
const (
	chunkShift = 10
	chunkRows  = 1 << chunkShift
	chunkMask  = chunkRows - 1
)

// A chunk holds up to chunkRows consecutive rows with their search text
// and facets. It is never written once its snapshot is published.
type chunk[T any] struct {
	rows   []T      // the rows, unless the spec packs them:
	packed []byte   // then their records, back to back,
	offs   []int32  // row j's from offs[j]
	labels []uint32 // row j's labels (Spec.Labels), L a row: [j*L, j*L+L)
	blob   []byte   // the rows' texts, lowercased, each followed by a 0 byte
	starts []int32  // where row j's text begins in blob
	nums   []int64  // row j's facet: Num as is,
	codes  []uint32 // and Str as a code into the snapshot's dict
}

// len is how many rows c holds.
func (c *chunk[T]) len() int { return len(c.starts) }

// record is packed row j's record.
func (c *chunk[T]) record(j int) []byte {
	end := len(c.packed)
	if j+1 < len(c.offs) {
		end = int(c.offs[j+1])
	}
	return c.packed[c.offs[j]:end]
}

// facetDict numbers a facet's strings (they are few: statuses). gen is the
// version of the snapshot that made it: that snapshot's writer may add to
// it; any later one copies it first.
type facetDict struct {
	gen  uint64
	strs []string
	code map[string]uint32
}

type order struct {
	once  sync.Once
	built atomic.Bool // perm is set (readable without waiting on once)
	perm  []int32
}

func (o *order) set(perm []int32) {
	o.once.Do(func() {
		o.perm = perm
		o.built.Store(true)
	})
}

// at is row i (unpacked, if packed). Its strings and pointers are shared
// with the table: read them, never write through them.
func (s *snapshot[T]) at(i int32) T {
	var r T
	s.get(s.chunks[i>>chunkShift], int(i&chunkMask), &r)
	return r
}

// get sets *r to row j of chunk c.
func (s *snapshot[T]) get(c *chunk[T], j int, r *T) {
	if c.packed == nil {
		*r = c.rows[j]
		return
	}
	// By value: a pointer handed to a func value escapes, and an
	// Unpacker on the heap for every row was most of a million-row walk's
	// time.
	s.spec.Unpack(Unpacker{rec: c.record(j), text: c.text(j), syms: &s.syms}, r)
}

// idOf is row i's id; a packed row's is read alone, from its record.
func (s *snapshot[T]) idOf(i int32) string {
	c, j := s.chunks[i>>chunkShift], int(i&chunkMask)
	if c.packed == nil {
		return s.spec.ID(&c.rows[j])
	}
	return firstStr(c.record(j))
}

func (s *snapshot[T]) facetAt(i int32) Key {
	return s.facetOf(s.chunks[i>>chunkShift], int(i&chunkMask))
}

// facetOf is row j of chunk c's facet.
func (s *snapshot[T]) facetOf(c *chunk[T], j int) Key {
	return Key{Num: c.nums[j], Str: s.dict.strs[c.codes[j]]}
}

// text is row j's lowercase search text.
func (c *chunk[T]) text(j int) []byte {
	end := len(c.blob)
	if j+1 < len(c.starts) {
		end = int(c.starts[j+1])
	}
	return c.blob[c.starts[j] : end-1]
}

// rowsIn is how many rows chunk k of s holds.
func (s *snapshot[T]) rowsIn(k int) int { return min(chunkRows, s.n-k<<chunkShift) }

// build makes a snapshot of rows, which it owns from now on. Unpacked,
// its chunks are stretches of rows (no copy): a chunk a delta later
// replaces leaves its stretch unused until the next build, at most the
// rows once more. Packed, rows is garbage once built.
func (t *Table[T]) build(version uint64, rows []T) *snapshot[T] {
	s := t.emptySnapshot(version, len(rows))
	var scratch []byte
	for lo := 0; lo < len(rows); lo += chunkRows {
		hi := min(lo+chunkRows, len(rows))
		scratch = t.appendChunk(s, rows[lo:hi:hi], true, scratch) // capped: an append never writes into the next chunk
	}
	return s
}

// emptySnapshot is a snapshot of version with no rows yet, its id table
// sized for about rows.
func (t *Table[T]) emptySnapshot(version uint64, about int) *snapshot[T] {
	return &snapshot[T]{version: version, spec: &t.spec, orders: t.newOrders(),
		chunks: make([]*chunk[T], 0, (about+chunkRows-1)/chunkRows), ids: newIDTable(about, version),
		dict: &facetDict{gen: version, code: map[string]uint32{}}, syms: newStrTable(), labels: newStrTable()}
}

// appendChunk adds part (at most chunkRows rows) to s as its next chunk.
// With own, an unpacked chunk is part itself; otherwise nothing of part is
// kept (packed rows are copied into records, unpacked ones into the
// chunk). scratch is spare room, returned for the next chunk.
func (t *Table[T]) appendChunk(s *snapshot[T], part []T, own bool, scratch []byte) []byte {
	base := s.n
	s.n += len(part)
	c := &chunk[T]{}
	if own && t.spec.Pack == nil {
		c.rows = part
	}
	scratch = t.fill(s, c, nil, len(part), nil, func(j int) *T { return &part[j] }, scratch)
	s.chunks = append(s.chunks, c)
	if !s.ids.hasRoom(len(part)) { // more rows than the snapshot was sized for: double
		s.ids = s.ids.withRoom(max(len(part), base), base, s.idOf, s.version)
	}
	for i := range part {
		s.ids.put(t.spec.ID(&part[i]), int32(base+i), s.idOf, s.version)
	}
	return scratch
}

// A Loader builds a table's next snapshot from rows given a part at a
// time, in order: a load from the cache packs each part while the next
// ones are still being read and decrypted, instead of all of them after
// the last (at 100,000 sessions that was a third of the offline start),
// and no part need outlive its Add (at a million sessions the decoded rows
// all at once were ~300 MB). The table takes no other write until Adopt
// or Discard, one of which must be called.
type Loader[T any] struct {
	t       *Table[T]
	s       *snapshot[T]
	pending []T // the rows of the chunk being gathered
	scratch []byte
}

// Loader starts the table's next snapshot; about is how many rows are
// expected (sizing the id table; more may come).
func (t *Table[T]) Loader(about int) *Loader[T] {
	t.wmu.Lock()
	return &Loader[T]{t: t, s: t.emptySnapshot(t.cur.Load().version+1, about)}
}

// Add gives the rows that follow those given before. Nothing of rows is
// kept: it may be reused once Add returns.
func (l *Loader[T]) Add(rows []T) {
	for len(rows) > 0 {
		if len(l.pending) == 0 && len(rows) >= chunkRows {
			l.scratch = l.t.appendChunk(l.s, rows[:chunkRows:chunkRows], false, l.scratch)
			rows = rows[chunkRows:]
			continue
		}
		if l.pending == nil {
			l.pending = make([]T, 0, chunkRows)
		}
		k := min(chunkRows-len(l.pending), len(rows))
		l.pending, rows = append(l.pending, rows[:k]...), rows[k:]
		if len(l.pending) == chunkRows {
			l.flush()
		}
	}
}

func (l *Loader[T]) flush() {
	if len(l.pending) > 0 {
		l.scratch = l.t.appendChunk(l.s, l.pending, false, l.scratch)
		clear(l.pending) // the copies' strings are the chunk's now, or garbage
		l.pending = l.pending[:0]
	}
}

// Adopt makes the rows given the table's, as Table.Adopt does.
func (l *Loader[T]) Adopt() {
	l.flush()
	l.finish(l.s)
}

// Discard gives up the rows given: the table is left empty, as Adopt(nil)
// leaves it.
func (l *Loader[T]) Discard() {
	l.finish(l.t.build(l.s.version, nil))
}

func (l *Loader[T]) finish(s *snapshot[T]) {
	l.pending, l.scratch, l.s = nil, nil, nil
	l.t.publish(s, nil)
	l.t.wmu.Unlock()
	l.t.endLoad()
}

// rowMarks has a bit per row of a chunk.
type rowMarks [chunkRows / 64]uint64

func (m *rowMarks) has(j int) bool { return m[j/64]&(1<<(j%64)) != 0 }

// fill builds chunk c of n rows: row j is item(j) where fresh marks it
// (every row when prev is nil), else prev's, the chunk c replaces, whose
// record, text, labels and facet are copied: a delta packs and lowercases
// only the rows it changed. An unpacked c whose rows are set already keeps
// them. scratch is spare room, returned for the next chunk.
func (t *Table[T]) fill(s *snapshot[T], c, prev *chunk[T], n int, fresh *rowMarks, item func(j int) *T, scratch []byte) []byte {
	reuse := func(j int) bool { return prev != nil && j < prev.len() && !fresh.has(j) }
	switch {
	case t.spec.Pack != nil:
		p := Packer{buf: scratch[:0], syms: &s.syms, gen: s.version}
		c.offs = make([]int32, n)
		for j := range n {
			c.offs[j] = int32(len(p.buf))
			if reuse(j) {
				p.buf = append(p.buf, prev.record(j)...)
				continue
			}
			p.sec, p.ns = 0, 0
			t.spec.Pack(&p, item(j))
		}
		c.packed, scratch = slices.Clone(p.buf), p.buf // exact: spare room would be held per chunk
	case c.rows == nil:
		c.rows = make([]T, n)
		for j := range n {
			if reuse(j) {
				c.rows[j] = prev.rows[j]
			} else {
				c.rows[j] = *item(j)
			}
		}
	}
	if L := len(t.spec.Labels); L > 0 {
		c.labels = make([]uint32, n*L)
		var low []byte
		for j := range n {
			if reuse(j) {
				copy(c.labels[j*L:j*L+L], prev.labels[j*L:])
				continue
			}
			r := item(j)
			for x, label := range t.spec.Labels {
				low = low[:0]
				for k, part := range label {
					if k > 0 {
						low = append(low, 0)
					}
					low = appendLower(low, part(r))
				}
				code, ok := s.labels.lookup(low)
				if !ok {
					code = s.labels.add(bytesString(low), s.version)
				}
				c.labels[j*L+x] = code
			}
		}
	}
	blob := scratch[:0]
	c.starts = make([]int32, n)
	for j := range n {
		c.starts[j] = int32(len(blob))
		if reuse(j) {
			blob = append(blob, prev.text(j)...)
		} else {
			blob = appendLower(blob, t.spec.Text(item(j)))
		}
		blob = append(blob, 0)
	}
	c.blob = slices.Clone(blob)
	if t.spec.Facet != nil {
		c.nums, c.codes = make([]int64, n), make([]uint32, n)
		for j := range n {
			if reuse(j) {
				c.nums[j], c.codes[j] = prev.nums[j], prev.codes[j]
				continue
			}
			k := t.spec.Facet(item(j))
			c.nums[j], c.codes[j] = k.Num, s.code(k.Str)
		}
	}
	return blob
}

// code is str's number in s's facet dictionary, adding it if new (to a
// copy, when the dictionary is shared with an older snapshot).
func (s *snapshot[T]) code(str string) uint32 {
	if c, ok := s.dict.code[str]; ok {
		return c
	}
	if s.dict.gen != s.version {
		d := &facetDict{gen: s.version, strs: slices.Clone(s.dict.strs), code: make(map[string]uint32, len(s.dict.code)+1)}
		for k, v := range s.dict.code {
			d.code[k] = v
		}
		s.dict = d
	}
	c := uint32(len(s.dict.strs))
	str = strings.Clone(str) // a new value is rare; the row's may be a slice of a larger buffer
	s.dict.strs = append(s.dict.strs, str)
	s.dict.code[str] = c
	return c
}

func (t *Table[T]) newOrders() map[string]*order {
	m := make(map[string]*order, len(t.spec.Sorts))
	for k := range t.spec.Sorts {
		m[k] = &order{}
	}
	return m
}

// lookup returns the row holding id.
func (s *snapshot[T]) lookup(id string) (int32, bool) {
	return s.ids.get(id, s.idOf)
}

// appendLower appends s lowercased; ASCII (nearly every row) without the
// string strings.ToLower would allocate.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// idTable maps an id to its row: open addressing with linear probing over
// row+1 (0 is empty), at most half full. Its slots are in pages, copied on
// write as chunks are: a delta that adds a row copies the directory and
// the page it writes, not the table.
type idTable struct {
	seed  maphash.Seed
	pages []*idPage
	mask  uint64 // slots - 1
	n     int
}

const pageShift = 10

// idPage's gen is the version of the snapshot that made it: only that
// snapshot's writer may write to it.
type idPage struct {
	gen   uint64
	slots [1 << pageShift]int32
}

func newIDTable(n int, gen uint64) idTable {
	size := 1 << pageShift
	for size < 2*n {
		size *= 2
	}
	t := idTable{seed: maphash.MakeSeed(), pages: make([]*idPage, size>>pageShift), mask: uint64(size - 1)}
	for k := range t.pages {
		t.pages[k] = &idPage{gen: gen}
	}
	return t
}

func (t *idTable) slot(h uint64) int32 { return t.pages[h>>pageShift].slots[h&(1<<pageShift-1)] }

func (t *idTable) get(id string, idAt func(int32) string) (int32, bool) {
	for h := maphash.String(t.seed, id) & t.mask; ; h = (h + 1) & t.mask {
		r := t.slot(h)
		if r == 0 {
			return 0, false
		}
		if idAt(r-1) == id {
			return r - 1, true
		}
	}
}

// put points id at row, replacing an earlier row of the same id (as the
// last of duplicate rows wins). gen is the writer's version: a page of an
// older one is copied first. The directory must be the writer's own.
func (t *idTable) put(id string, row int32, idAt func(int32) string, gen uint64) {
	for h := maphash.String(t.seed, id) & t.mask; ; h = (h + 1) & t.mask {
		r := t.slot(h)
		if r != 0 && idAt(r-1) != id {
			continue
		}
		p := t.pages[h>>pageShift]
		if p.gen != gen {
			p = &idPage{gen: gen, slots: p.slots}
			t.pages[h>>pageShift] = p
		}
		p.slots[h&(1<<pageShift-1)] = row + 1
		if r == 0 {
			t.n++
		}
		return
	}
}

// hasRoom reports whether t stays at most half full with extra ids more.
func (t *idTable) hasRoom(extra int) bool { return 2*(t.n+extra) <= len(t.pages)<<pageShift }

// withRoom returns t for a writer of version gen that will add up to extra
// ids, staying at most half full: its own directory over t's pages, or,
// when it must grow, a table rebuilt from the first rows rows.
func (t idTable) withRoom(extra, rows int, idAt func(int32) string, gen uint64) idTable {
	if t.hasRoom(extra) {
		c := t
		c.pages = slices.Clone(t.pages)
		return c
	}
	g := newIDTable(t.n+extra, gen)
	for i := 0; i < rows; i++ {
		g.put(idAt(int32(i)), int32(i), idAt, gen)
	}
	return g
}
