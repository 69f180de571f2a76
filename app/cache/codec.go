package cache

import (
	"encoding/binary"
	"errors"
	"time"

	"sessiondesk/app/domain"
)

// The plaintext inside a sealed row. Version 1 was the row's JSON; opening
// 100,000 sessions spent most of its time in encoding/json (reflection,
// RFC 3339 parsing, one allocation per string). Version 2 is a compact
// binary form: a leading codecV2 byte (JSON never starts with it), then the
// fields in declaration order as varints, length-prefixed strings and
// presence bytes. Rows written by an older build still open: open falls
// back to JSON when the first byte is not codecV2.
//
// Fields a later release adds to a type go at the end of its row, as a
// section of their own: a row ends after whichever sections its build
// wrote, and the decoder reads a section only when bytes remain. So rows
// cached by an older build open without a new codec version (audit: v1.1
// added target user and label, v1.2 target_ids); a row from a newer build
// fails in an older one (trailing bytes), which rebuilds its cache.
//
// Decoding takes one string of the whole plaintext and slices every field
// out of it, so a row costs one allocation for its strings. The codec test
// fails when a domain type gains a field, so a new field cannot be dropped
// silently.
const codecV2 = 0x02

var errShort = errors.New("cache: sealed row truncated")

func putStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// putTime keeps the instant and the zone offset (as JSON did); the monotonic
// reading and the zone's name are not kept.
func putTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

func putUser(b []byte, u *domain.Person) []byte {
	b = putStr(b, u.ID)
	b = putStr(b, u.Email)
	return putStr(b, u.Name)
}

func putOptStr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return putStr(append(b, 1), *s)
}

func putOptTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, 0)
	}
	return putTime(append(b, 1), *t)
}

func encodeSession(b []byte, s *domain.Session) []byte {
	b = append(b, codecV2)
	b = putStr(b, s.ID)
	b = putUser(b, &s.User)
	b = putOptStr(b, s.DeviceID)
	b = putStr(b, s.IP)
	b = putStr(b, s.UserAgent)
	b = putStr(b, s.Client)
	b = putStr(b, s.Location)
	b = putTime(b, s.CreatedAt)
	b = putTime(b, s.LastActiveAt)
	b = putTime(b, s.ExpiresAt)
	b = putTime(b, s.UpdatedAt)
	b = putStr(b, s.Status)
	b = putOptTime(b, s.TerminatedAt)
	if s.TerminatedBy == nil {
		b = append(b, 0)
	} else {
		b = putUser(append(b, 1), s.TerminatedBy)
	}
	b = putBool(b, s.MFA)
	return putBool(b, s.Current)
}

func encodeDevice(b []byte, d *domain.Device) []byte {
	b = append(b, codecV2)
	b = putStr(b, d.ID)
	b = putUser(b, &d.User)
	b = putStr(b, d.Name)
	b = putStr(b, d.Platform)
	b = putBool(b, d.Trusted)
	b = putOptTime(b, d.TrustedAt)
	b = putTime(b, d.FirstSeenAt)
	b = putTime(b, d.LastSeenAt)
	b = putStr(b, d.LastIP)
	return putTime(b, d.UpdatedAt)
}

func encodeAudit(b []byte, e *domain.AuditEvent) []byte {
	b = append(b, codecV2)
	b = putStr(b, e.ID)
	b = putTime(b, e.At)
	b = putUser(b, &e.Actor)
	b = putStr(b, e.Action)
	b = putOptStr(b, e.TargetID)
	b = binary.AppendVarint(b, int64(e.Count))
	b = putStr(b, e.Reason)
	// v1.1 section.
	if e.TargetUser == nil {
		b = append(b, 0)
	} else {
		b = putUser(append(b, 1), e.TargetUser)
	}
	b = putStr(b, e.TargetLabel)
	// v1.2 section: the sessions a bulk action ended.
	b = binary.AppendUvarint(b, uint64(len(e.TargetIDs)))
	for _, id := range e.TargetIDs {
		b = putStr(b, id)
	}
	return b
}

// reader walks one plaintext; the first error sticks and later reads
// return zero values.
type reader struct {
	s   string // the whole plaintext; strings are sliced from it
	pos int
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.pos = len(r.s)
}

func (r *reader) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if r.pos >= len(r.s) {
			r.fail()
			return 0
		}
		c := r.s[r.pos]
		r.pos++
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail()
	return 0
}

func (r *reader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *reader) byte() byte {
	if r.pos >= len(r.s) {
		r.fail()
		return 0
	}
	c := r.s[r.pos]
	r.pos++
	return c
}

func (r *reader) bool() bool { return r.byte() == 1 }

func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.s)-r.pos) {
		r.fail()
		return ""
	}
	v := r.s[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return v
}

func (r *reader) time() time.Time {
	sec := r.varint()
	nsec := int64(r.uvarint())
	off := r.varint()
	t := time.Unix(sec, nsec)
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

func (r *reader) user(u *domain.Person) {
	u.ID = r.str()
	u.Email = r.str()
	u.Name = r.str()
}

func (r *reader) optStr() *string {
	if !r.bool() {
		return nil
	}
	s := r.str()
	return &s
}

func (r *reader) optTime() *time.Time {
	if !r.bool() {
		return nil
	}
	t := r.time()
	return &t
}

// more reports whether a later section follows (see the codec's comment).
func (r *reader) more() bool { return r.err == nil && r.pos < len(r.s) }

// done reports the first error, or an error if bytes are left over.
func (r *reader) done() error {
	if r.err == nil && r.pos != len(r.s) {
		return errors.New("cache: sealed row has trailing bytes")
	}
	return r.err
}

func decodeSession(plain string, s *domain.Session) error {
	r := reader{s: plain, pos: 1}
	s.ID = r.str()
	r.user(&s.User)
	s.DeviceID = r.optStr()
	s.IP = r.str()
	s.UserAgent = r.str()
	s.Client = r.str()
	s.Location = r.str()
	s.CreatedAt = r.time()
	s.LastActiveAt = r.time()
	s.ExpiresAt = r.time()
	s.UpdatedAt = r.time()
	s.Status = r.str()
	s.TerminatedAt = r.optTime()
	if r.bool() {
		s.TerminatedBy = new(domain.Person)
		r.user(s.TerminatedBy)
	}
	s.MFA = r.bool()
	s.Current = r.bool()
	return r.done()
}

func decodeDevice(plain string, d *domain.Device) error {
	r := reader{s: plain, pos: 1}
	d.ID = r.str()
	r.user(&d.User)
	d.Name = r.str()
	d.Platform = r.str()
	d.Trusted = r.bool()
	d.TrustedAt = r.optTime()
	d.FirstSeenAt = r.time()
	d.LastSeenAt = r.time()
	d.LastIP = r.str()
	d.UpdatedAt = r.time()
	return r.done()
}

func decodeAudit(plain string, e *domain.AuditEvent) error {
	r := reader{s: plain, pos: 1}
	e.ID = r.str()
	e.At = r.time()
	r.user(&e.Actor)
	e.Action = r.str()
	e.TargetID = r.optStr()
	e.Count = int(r.varint())
	e.Reason = r.str()
	if r.more() { // absent in rows cached before v1.1
		if r.bool() {
			e.TargetUser = &domain.Person{}
			r.user(e.TargetUser)
		}
		e.TargetLabel = r.str()
	}
	if r.more() { // absent in rows cached before v1.2
		// Each id takes at least its length byte: a count beyond the bytes
		// left is a damaged row, not a reason to allocate.
		if n := r.uvarint(); n > uint64(len(r.s)-r.pos) {
			r.fail()
		} else if n > 0 {
			e.TargetIDs = make([]string, n)
			for i := range e.TargetIDs {
				e.TargetIDs[i] = r.str()
			}
		}
	}
	return r.done()
}
