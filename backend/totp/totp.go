// Package totp implements RFC 6238 time-based one-time passwords with the
// parameters every authenticator app uses by default: HMAC-SHA1, a 30-second
// step and 6 digits. Secrets travel as unpadded upper-case base32, the form
// authenticator apps accept when typed in.
//
// Verify accepts the code of the current step and of one step either side, so
// a clock that is up to 30 seconds off still works. It reports the step that
// matched; callers that remember the last accepted step per user can refuse a
// code that was already used (RFC 6238 section 5.2).
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Period is the length of one step.
const Period = 30 * time.Second

// Digits is the length of a code.
const Digits = 6

// Skew is how many steps before and after the current one Verify accepts.
const Skew = 1

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random 160-bit secret in base32, the size RFC 4226
// recommends for HMAC-SHA1.
func NewSecret() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp: random secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// DecodeSecret parses a base32 secret, tolerating lower case, spaces and
// padding as people and apps write them.
func DecodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	s = strings.TrimRight(s, "=")
	key, err := b32.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("totp: secret is not base32")
	}
	return key, nil
}

// Step is the RFC 6238 counter for t.
func Step(t time.Time) int64 {
	return t.Unix() / int64(Period/time.Second)
}

// CodeAt returns the code for the given counter value.
func CodeAt(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, v%1_000_000)
}

// Code returns the code a correct authenticator shows at t for a base32
// secret. Tests use it to sign in as a TOTP-enrolled user.
func Code(secret string, t time.Time) (string, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return "", err
	}
	return CodeAt(key, Step(t)), nil
}

// Verify reports whether code is valid at t for the base32 secret, and which
// step it matched. Comparison is constant-time.
func Verify(secret, code string, t time.Time) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return 0, false
	}
	now := Step(t)
	for d := -Skew; d <= Skew; d++ {
		s := now + int64(d)
		if subtle.ConstantTimeCompare([]byte(CodeAt(key, s)), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
