package index

import (
	"encoding/binary"
	"slices"
	"time"
	"unsafe"
)

// Packed rows. A table whose Spec has Pack keeps each row as a short
// record of bytes instead of a T: at a million sessions a domain.Session
// is 272 bytes before its strings, and the sessions alone held ~350 MB;
// a record is ~90 bytes. What rows share (a person, a browser, a place, a
// status) is written as a number into the table's symbols, each distinct
// string kept once; the rest (ids, addresses) as length and bytes; times
// as the seconds since the record's previous time. A row is unpacked when
// it is read: the window of a query, a sort's keys, a filter's row. A
// walk over every row that needs few of its fields (the overview) reads
// their facets and tallies instead (Spec.Tally): unpacking a million
// sessions takes ~110 ms.
//
// Strings unpacked from a record point into the chunk's bytes (which are
// never written once published), so unpacking allocates only for the
// rare optional fields.

// Packer writes one row's record; Spec.Pack gets one.
type Packer struct {
	buf  []byte
	syms *strTable
	gen  uint64
	// The last time's seconds and nanoseconds: the next is written as the
	// difference (a session's times are mostly whole seconds or hours
	// apart, so their nanoseconds repeat).
	sec, ns int64
}

// Str writes s itself (a value most rows do not share: an id, an address).
func (p *Packer) Str(s string) {
	p.buf = binary.AppendUvarint(p.buf, uint64(len(s)))
	p.buf = append(p.buf, s...)
}

// Sym writes s as its number among the table's symbols: for values many
// rows share.
func (p *Packer) Sym(s string) {
	p.buf = binary.AppendUvarint(p.buf, uint64(p.syms.add(s, p.gen)))
}

// OptSym writes an optional Sym (nil is not "").
func (p *Packer) OptSym(s *string) {
	if s == nil {
		p.buf = append(p.buf, 0)
		return
	}
	p.buf = binary.AppendUvarint(p.buf, uint64(p.syms.add(*s, p.gen))+1)
}

// Uint writes a small number (flags, counts).
func (p *Packer) Uint(v uint64) { p.buf = binary.AppendUvarint(p.buf, v) }

// Time writes t's instant and zone offset, as the cache's codec keeps them
// (the monotonic reading and the zone's name are dropped).
func (p *Packer) Time(t time.Time) {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	_, off := t.Zone()
	d, dns := sec-p.sec, ns-p.ns
	p.sec, p.ns = sec, ns
	v := uint64(d<<1^d>>63) << 2 // zigzag, then two flags
	if dns != 0 {
		v |= 2
	}
	if off != 0 {
		v |= 1
	}
	p.buf = binary.AppendUvarint(p.buf, v)
	if dns != 0 {
		p.buf = binary.AppendVarint(p.buf, dns)
	}
	if off != 0 {
		p.buf = binary.AppendVarint(p.buf, int64(off))
	}
}

// OptTime writes an optional Time.
func (p *Packer) OptTime(t *time.Time) {
	if t == nil {
		p.buf = append(p.buf, 0)
		return
	}
	p.buf = append(p.buf, 1)
	p.Time(*t)
}

// Unpacker reads one row's record back, in the order Pack wrote it.
type Unpacker struct {
	rec  []byte
	pos  int
	syms *strTable
	sec  int64
	ns   int64
}

func (u *Unpacker) uvarint() uint64 {
	v, n := binary.Uvarint(u.rec[u.pos:])
	u.pos += n
	return v
}

// Str reads a Str. The string shares the record's bytes.
func (u *Unpacker) Str() string {
	n := int(u.uvarint())
	s := u.rec[u.pos : u.pos+n]
	u.pos += n
	return bytesString(s)
}

// Sym reads a Sym.
func (u *Unpacker) Sym() string { return u.syms.at(uint32(u.uvarint())) }

// OptSym reads an OptSym. The pointer is shared by every row holding the
// same value: never write through it.
func (u *Unpacker) OptSym() *string {
	c := u.uvarint()
	if c == 0 {
		return nil
	}
	return u.syms.ref(uint32(c - 1))
}

// Uint reads a Uint.
func (u *Unpacker) Uint() uint64 { return u.uvarint() }

// Time reads a Time: in UTC when its offset was 0, else in a zone of that
// offset (as the cache's codec gives it back).
func (u *Unpacker) Time() time.Time {
	v := u.uvarint()
	z := v >> 2
	u.sec += int64(z>>1) ^ -int64(z&1)
	if v&2 != 0 {
		d, n := binary.Varint(u.rec[u.pos:])
		u.pos += n
		u.ns += d
	}
	t := time.Unix(u.sec, u.ns)
	if v&1 == 0 {
		return t.UTC()
	}
	off, n := binary.Varint(u.rec[u.pos:])
	u.pos += n
	return t.In(time.FixedZone("", int(off)))
}

// OptTime reads an OptTime.
func (u *Unpacker) OptTime() *time.Time {
	u.pos++
	if u.rec[u.pos-1] == 0 {
		return nil
	}
	t := u.Time()
	return &t
}

// firstStr is the record's first Str (a packed row's id) without reading
// the rest.
func firstStr(rec []byte) string {
	n, w := binary.Uvarint(rec)
	return bytesString(rec[w : w+int(n)])
}

// bytesString is b as a string without a copy. Only for bytes never
// written again: a published chunk's.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// strTable numbers distinct strings, append-only: the packed rows'
// symbols and the search's labels. Its strings are in pages copied on
// write like the id table's: a snapshot's writer adds to pages of its own
// version, copying the last page (and the directory) first when an older
// snapshot shares them, so readers of a published snapshot never see a
// write. code, which only writers read, is shared by every version.
type strTable struct {
	pages  []*strPage
	dirGen uint64 // the version whose writer owns pages (the directory)
	n      int
	code   map[string]uint32
}

type strPage struct {
	gen  uint64
	strs []string
}

func newStrTable() strTable { return strTable{code: map[string]uint32{}} }

func (t *strTable) at(c uint32) string { return t.pages[c>>pageShift].strs[c&(1<<pageShift-1)] }

func (t *strTable) ref(c uint32) *string { return &t.pages[c>>pageShift].strs[c&(1<<pageShift-1)] }

// lookup is s's number, if it has one.
func (t *strTable) lookup(s []byte) (uint32, bool) {
	c, ok := t.code[string(s)] // no copy: a map index by a converted []byte
	return c, ok
}

// add returns s's number, numbering it if new. gen is the writer's version.
func (t *strTable) add(s string, gen uint64) uint32 {
	if c, ok := t.code[s]; ok {
		return c
	}
	if t.dirGen != gen {
		t.pages, t.dirGen = slices.Clone(t.pages), gen
	}
	k := t.n >> pageShift
	if k == len(t.pages) {
		t.pages = append(t.pages, &strPage{gen: gen, strs: make([]string, 0, 1<<pageShift)})
	} else if p := t.pages[k]; p.gen != gen {
		strs := make([]string, len(p.strs), 1<<pageShift)
		copy(strs, p.strs)
		t.pages[k] = &strPage{gen: gen, strs: strs}
	}
	p := t.pages[k]
	p.strs = append(p.strs, s)
	c := uint32(t.n)
	t.code[s] = c
	t.n++
	return c
}
