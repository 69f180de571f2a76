package store

import (
	"crypto/rand"
	"encoding/base32"
	"io"
	"strings"
)

// IDs are a type prefix, an underscore and 26 lower-case base32 characters
// (128 random bits), e.g. "ses_3k7…". The prefix makes a session ID pasted
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

// NewID returns a random ID with the given prefix.
func NewID(prefix string) string {
	return NewIDFrom(rand.Reader, prefix)
}

// NewIDFrom draws the ID's bits from r; seeds pass a deterministic source.
func NewIDFrom(r io.Reader, prefix string) string {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		// crypto/rand never fails on supported platforms; a seeded reader
		// never fails either.
		panic("store: reading random ID: " + err.Error())
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
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
