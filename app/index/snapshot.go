package index

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// A snapshot is immutable once published. Its columns are what a query
// touches, kept compact because at 1,000,000 rows every byte per row is a
// megabyte: the search text lives only in blob (a row's text is derived
// from starts), a facet is an int64 and a small code into a dictionary of
// its few strings, and ids are found through an open-addressed table of
// row numbers (4 bytes a slot) instead of a map holding a string per row.
//
// Upsert may append to a snapshot's columns in place: a published snapshot
// reads only up to its own lengths, and one writer at a time (Table.wmu)
// derives the next snapshot from the current one, so the spare capacity is
// never written twice.
type snapshot[T any] struct {
	version uint64
	rows    []T
	blob    []byte  // every text, lowercased, each followed by a 0 byte
	starts  []int32 // where row i's text begins in blob
	facet   facets
	ids     idTable
	orders  map[string]*order
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

// text is row i's lowercase search text.
func (s *snapshot[T]) text(i int) []byte {
	end := len(s.blob)
	if i+1 < len(s.starts) {
		end = int(s.starts[i+1])
	}
	return s.blob[s.starts[i] : end-1]
}

func (t *Table[T]) build(version uint64, rows []T) *snapshot[T] {
	s := &snapshot[T]{version: version, rows: rows, starts: make([]int32, len(rows)), orders: t.newOrders()}
	s.ids = newIDTable(len(rows))
	s.blob = make([]byte, 0, t.blobSize(rows))
	for i := range rows {
		s.starts[i] = int32(len(s.blob))
		s.blob = appendLower(s.blob, t.spec.Text(&rows[i]))
		s.blob = append(s.blob, 0)
		s.ids.put(t.spec.ID(&rows[i]), int32(i), func(j int32) string { return t.spec.ID(&rows[j]) })
	}
	if t.spec.Facet != nil {
		s.facet = facets{nums: make([]int64, len(rows)), codes: make([]uint32, len(rows)), code: map[string]uint32{}}
		for i := range rows {
			s.facet.set(i, t.spec.Facet(&rows[i]))
		}
	}
	return s
}

// blobSize estimates the blob of rows from a sample, with a little room:
// growing by append would leave up to a quarter of it unused.
func (t *Table[T]) blobSize(rows []T) int {
	const sample = 512
	if len(rows) == 0 {
		return 0
	}
	step := max(len(rows)/sample, 1)
	size, seen := 0, 0
	for i := 0; i < len(rows); i += step {
		size += len(t.spec.Text(&rows[i])) + 1
		seen++
	}
	return size / seen * len(rows) * 33 / 32
}

func (t *Table[T]) newOrders() map[string]*order {
	m := make(map[string]*order, len(t.spec.Sorts))
	for k := range t.spec.Sorts {
		m[k] = &order{}
	}
	return m
}

// lookup returns the row holding id.
func (s *snapshot[T]) lookup(id string, idOf func(*T) string) (int32, bool) {
	return s.ids.get(id, func(j int32) string { return idOf(&s.rows[j]) })
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

// facets holds each row's Spec.Facet: Num as is, Str as a code into dict
// (a facet's strings are few: statuses).
type facets struct {
	nums  []int64
	codes []uint32
	dict  []string
	code  map[string]uint32
}

func (f *facets) at(i int32) Key { return Key{Num: f.nums[i], Str: f.dict[f.codes[i]]} }

// set stores k as row i's facet, adding k.Str to the dictionary if new.
// The caller owns dict and code (cloned them if shared).
func (f *facets) set(i int, k Key) {
	c, ok := f.code[k.Str]
	if !ok {
		c = uint32(len(f.dict))
		f.dict = append(f.dict, k.Str)
		f.code[k.Str] = c
	}
	f.nums[i], f.codes[i] = k.Num, c
}

// idTable maps an id to its row: open addressing with linear probing over
// row+1 (0 is empty), at most half full.
type idTable struct {
	seed  maphash.Seed
	slots []int32
	n     int
}

func newIDTable(n int) idTable {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return idTable{seed: maphash.MakeSeed(), slots: make([]int32, size)}
}

func (t *idTable) get(id string, idAt func(int32) string) (int32, bool) {
	mask := uint64(len(t.slots) - 1)
	for h := maphash.String(t.seed, id) & mask; ; h = (h + 1) & mask {
		r := t.slots[h]
		if r == 0 {
			return 0, false
		}
		if idAt(r-1) == id {
			return r - 1, true
		}
	}
}

// put points id at row, replacing an earlier row of the same id (as the
// last of duplicate rows wins).
func (t *idTable) put(id string, row int32, idAt func(int32) string) {
	mask := uint64(len(t.slots) - 1)
	for h := maphash.String(t.seed, id) & mask; ; h = (h + 1) & mask {
		r := t.slots[h]
		if r == 0 {
			t.slots[h] = row + 1
			t.n++
			return
		}
		if idAt(r-1) == id {
			t.slots[h] = row + 1
			return
		}
	}
}

// withRoom returns a copy of t that can take extra more ids and stay at
// most half full (rebuilt from rows when it must grow).
func (t idTable) withRoom(extra int, rows int, idAt func(int32) string) idTable {
	if 2*(t.n+extra) <= len(t.slots) {
		c := t
		c.slots = append([]int32(nil), t.slots...)
		return c
	}
	g := newIDTable(t.n + extra)
	for i := 0; i < rows; i++ {
		g.put(idAt(int32(i)), int32(i), idAt)
	}
	return g
}
