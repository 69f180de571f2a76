package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"io"
	"strings"
	"time"
)

// IDs are a type prefix, an underscore and 26 lower-case base32 characters
// (128 random bits; a session's begin with its creation time, see
// NewSessionID), e.g. "ses_3k7…". The prefix makes a session ID pasted
// where a device ID belongs fail validation (400) instead of searching.
// A well-formed ID that names no row of the caller's organization is 404.
const (
	PrefixOrg     = "org"
	PrefixUser    = "usr"
	PrefixSession = "ses"
	PrefixDevice  = "dev"
	PrefixAudit   = "aud"
	PrefixAttempt = "att" // sign-in throttle reservations
	PrefixStream  = "stm" // event-stream leases
)

const idBodyLen = 26

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// sortedEncoding is idEncoding's alphabet in ASCII order, so that a body
// sorts (byte-wise, as both stores compare IDs) in the order of its bits.
// Its IDs are as valid as the others: the same 32 characters.
var sortedEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// NewSessionID returns a session's ID: its creation time (milliseconds
// since 1970, 48 bits) followed by 80 random bits, so sessions made later
// sort after earlier ones.
//
// Why: a table keeps rows in about the order they were inserted, and a
// terminate-all rewrites an organization's sessions in that order. Each
// rewritten row adds an entry to the primary key and to the feed index
// (org, updated_at, id), where a terminate-all's rows share updated_at and
// so go in ID order. With random IDs every entry lands on a random page of
// both B-trees; with IDs in insertion order they go in sequence. On
// PostgreSQL at a million sessions that UPDATE took 21.6-21.9 s with the
// rows in random ID order and 10.7-10.8 s with them in ID order
// (docs/bench.md). 80 random bits keep IDs unguessable; the time they
// carry is the session's created_at, which the API shows anyway.
func NewSessionID(created time.Time) string { return NewSessionIDFrom(rand.Reader, created) }

// NewSessionIDFrom is NewSessionID drawing the random bits from r (seeds
// pass a deterministic source). It reads 16 bytes, as NewIDFrom does, so
// a seed's later IDs do not shift.
func NewSessionIDFrom(r io.Reader, created time.Time) string {
	b := randomBits(r)
	ms := uint64(max(created.UnixMilli(), 0))
	ms = min(ms, 1<<48-1)
	var head [8]byte
	binary.BigEndian.PutUint64(head[:], ms)
	copy(b[:6], head[2:])
	return PrefixSession + "_" + sortedEncoding.EncodeToString(b[:])
}

// NewID returns a random ID with the given prefix.
func NewID(prefix string) string {
	return NewIDFrom(rand.Reader, prefix)
}

// NewIDFrom draws the ID's bits from r; seeds pass a deterministic source.
func NewIDFrom(r io.Reader, prefix string) string {
	b := randomBits(r)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// randomBits reads an ID's 128 bits from r.
func randomBits(r io.Reader) [16]byte {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		// crypto/rand never fails on supported platforms; a seeded reader
		// never fails either.
		panic("store: reading random ID: " + err.Error())
	}
	return b
}

// ValidID reports whether id is well-formed for the prefix.
func ValidID(prefix, id string) bool {
	body, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(body) != idBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
