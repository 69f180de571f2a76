package index

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
// only its record's head (Spec.Tally): unpacking a million sessions takes
// ~110 ms.
//
// Strings unpacked from a record point into the chunk's bytes (which are
// never written once published), so unpacking allocates only for the
// rare optional fields.

// Packer writes one row's record; Spec.Pack gets one.
type Packer struct {
	buf  []byte
	tmp  []byte // Sym3's key
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

// Text writes the row's search text (Spec.Text), which the chunk keeps
// lowercased beside the records: as a mark when that copy is the text
// itself (an address nearly always is), else in full. A million sessions'
// records were ~9 MB smaller (BenchmarkScaleMemory's rows).
func (p *Packer) Text(s string) {
	if isLower(s) {
		p.buf = append(p.buf, 0)
		return
	}
	p.buf = binary.AppendUvarint(p.buf, uint64(len(s))+1)
	p.buf = append(p.buf, s...)
}

// isLower reports whether appendLower leaves s as it is: ASCII without
// capitals.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// Sym writes s as its number among the table's symbols: for values many
// rows share.
func (p *Packer) Sym(s string) {
	p.buf = binary.AppendUvarint(p.buf, uint64(p.syms.add(s, p.gen)))
}

// Sym3 writes three values that go together (a person's id, e-mail and
// name) as one symbol: a number instead of three.
func (p *Packer) Sym3(a, b, c string) {
	t := p.tmp[:0]
	for _, s := range [...]string{a, b} {
		t = binary.AppendUvarint(t, uint64(len(s)))
		t = append(t, s...)
	}
	t = append(t, c...)
	p.tmp = t
	code, ok := p.syms.lookup(t)
	if !ok {
		code = p.syms.add(bytesString(t), p.gen)
	}
	p.buf = binary.AppendUvarint(p.buf, uint64(code))
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
	text []byte // the row's lowercased search text (for Text)
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

// Text reads a Text.
func (u *Unpacker) Text() string {
	n := int(u.uvarint())
	if n == 0 {
		return bytesString(u.text)
	}
	s := u.rec[u.pos : u.pos+n-1]
	u.pos += n - 1
	return bytesString(s)
}

// Sym reads a Sym.
func (u *Unpacker) Sym() string { return u.syms.at(uint32(u.SymNum())) }

// SymNum reads a Sym as its number, not its text.
func (u *Unpacker) SymNum() Sym { return Sym(u.uvarint()) }

// Sym3 reads a Sym3. The strings share the symbol's.
func (u *Unpacker) Sym3() (a, b, c string) {
	s := u.Sym()
	next := func() string {
		n, w := binary.Uvarint([]byte(s)) // no copy: the conversion does not escape
		v := s[w : w+int(n)]
		s = s[w+int(n):]
		return v
	}
	a = next()
	b = next()
	return a, b, s
}

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
	off, zoned := u.instant()
	t := time.Unix(u.sec, u.ns)
	if !zoned {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

// UnixNano reads a Time as Unix nanoseconds without making a time.Time,
// for walks that only compare instants. The zero time (unset) is the
// earliest of all, math.MinInt64: its time.UnixNano overflows, to a time
// that can look recent.
func (u *Unpacker) UnixNano() int64 {
	u.instant()
	if u.sec == zeroUnix && u.ns == 0 {
		return math.MinInt64
	}
	return u.sec*1e9 + u.ns
}

// zeroUnix is the zero time.Time's Unix seconds.
var zeroUnix = time.Time{}.Unix()

// instant reads a Time into u.sec and u.ns, and its zone offset.
func (u *Unpacker) instant() (off int64, zoned bool) {
	v := u.uvarint()
	z := v >> 2
	u.sec += int64(z>>1) ^ -int64(z&1)
	if v&2 != 0 {
		d, n := binary.Varint(u.rec[u.pos:])
		u.pos += n
		u.ns += d
	}
	if v&1 == 0 {
		return 0, false
	}
	off, n := binary.Varint(u.rec[u.pos:])
	u.pos += n
	return off, true
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
// write. code finds a string's number (an idTable over the numbers, 4
// bytes a slot: a map from string to number was ~40 bytes a symbol, 20 MB
// at a million sessions); only writers read it, and every version shares
// it, so it is never copied (gen 0).
type strTable struct {
	pages  []*strPage
	dirGen uint64 // the version whose writer owns pages (the directory)
	n      int
	code   *idTable
	block  []byte // where add copies the next string's bytes (see keep)
}

// strBlock is the size of the blocks a table's strings are copied into.
const strBlock = 16 << 10

// keep returns s copied into the table's current block. The strings a
// table keeps arrive one by one among everything a sync decodes; kept
// where they came, a few live strings held each page of the heap they
// shared with garbage. Together in blocks they hold only their own. A
// block's bytes are written once, before any snapshot holding a string
// in them is published; a writer appends past what older snapshots'
// strings use.
func (t *strTable) keep(s string) string {
	if len(s) == 0 || len(s) > strBlock/16 {
		return strings.Clone(s)
	}
	if len(t.block)+len(s) > cap(t.block) {
		t.block = make([]byte, 0, strBlock)
	}
	t.block = append(t.block, s...)
	return bytesString(t.block[len(t.block)-len(s):])
}

type strPage struct {
	gen  uint64
	strs []string
}

func newStrTable() strTable {
	code := newIDTable(0, 0)
	return strTable{code: &code}
}

func (t *strTable) at(c uint32) string { return t.pages[c>>pageShift].strs[c&(1<<pageShift-1)] }

func (t *strTable) ref(c uint32) *string { return &t.pages[c>>pageShift].strs[c&(1<<pageShift-1)] }

// str is at for the code table.
func (t *strTable) str(c int32) string { return t.at(uint32(c)) }

// lookup is s's number, if it has one.
func (t *strTable) lookup(s []byte) (uint32, bool) {
	// The string shares s's bytes only for the lookup: it is not kept.
	c, ok := t.code.get(bytesString(s), t.str)
	return uint32(c), ok
}

// add returns s's number, numbering it if new (s is copied: it may share
// a buffer). gen is the writer's version.
func (t *strTable) add(s string, gen uint64) uint32 {
	if c, ok := t.code.get(s, t.str); ok {
		return uint32(c)
	}
	s = t.keep(s)
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
	t.n++
	if !t.code.hasRoom(1) {
		g := t.code.withRoom(1, int(c), t.str, 0)
		t.code = &g
	}
	t.code.put(s, int32(c), t.str, 0)
	return c
}
