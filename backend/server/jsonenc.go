package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"sessiondesk/backend/api"
)

// The session and device lists are the hot answers: a walk of a 100,000-
// session organization encodes 100,000 nested objects, and a CPU profile of
// that walk spent about a quarter of the server's time in encoding/json's
// reflection and another tenth growing and clearing its output buffer.
// These appenders write exactly the bytes json.Encoder.Encode writes for the
// same api values (HTML-safe string escaping, RFC 3339 times, a trailing
// newline; jsonenc_test.go compares them on random and hostile input) into
// a reused buffer that is sent with one Write (with a Content-Length).
//
// The API contract is the api types; these functions only spell out what
// encoding/json would do with them. A field added to api.Session or
// api.Device must be added here too; TestListEncodersMatchEncodingJSON fails
// until it is.

// bufPool is a small free list of response buffers. It is not a sync.Pool:
// a pool is emptied by every other GC, and under the walk's allocation rate
// that meant a fresh 64 KiB buffer grown by doubling to ~0.7 MB on most
// pages (runtime.growslice was 8% of the walk's CPU). Buffers that grew past
// maxPooledBuf are left to the GC, so a pool holds at most
// bufPoolSize*maxPooledBuf bytes.
//
// Each Server owns its pool (Server.bufs): no package-level mutable state,
// so servers in one process (tests, the demo platform beside a real one)
// never hand each other the memory of their answers. A nil pool pools
// nothing.
type bufPool chan []byte

const (
	bufPoolSize  = 8
	maxPooledBuf = 2 << 20
)

func newBufPool() bufPool { return make(bufPool, bufPoolSize) }

// get returns an empty buffer of at least n bytes capacity.
func (p bufPool) get(n int) []byte {
	select {
	case b := <-p:
		if cap(b) >= n {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, max(n, 64<<10))
}

func (p bufPool) put(b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	select {
	case p <- b[:0]:
	default:
	}
}

// Bytes of a session or device object besides its strings (keys, times,
// punctuation); estimates only size the buffer up front.
const (
	sessionFixedLen = 400
	deviceFixedLen  = 320
)

// listCodec is what writeList needs to know about one item type of a list
// route: the appender for one item, a size estimate for the buffer, and the
// api list type encoding/json falls back to (the contract stays the api
// types, so the fallback encodes exactly those).
//
// appendItem takes the item by value and returns ok rather than taking
// pointers: it is called through a func value, so escape analysis cannot
// see into it, and a pointer argument would move every item (and ok) to
// the heap — 1,001 allocations a page where the direct calls had none.
type listCodec[T any] struct {
	fixedLen   int
	appendItem func(b []byte, v T) ([]byte, bool)
	apiList    func(items []T, next *string) any
}

var (
	sessionCodec = listCodec[api.Session]{sessionFixedLen, reportOK(appendSession),
		func(items []api.Session, next *string) any { return api.SessionList{Items: items, NextCursor: next} }}
	deviceCodec = listCodec[api.Device]{deviceFixedLen, reportOK(appendDevice),
		func(items []api.Device, next *string) any { return api.DeviceList{Items: items, NextCursor: next} }}
)

// reportOK turns an appender that clears *ok when it cannot encode a value
// (see appendTime) into a listCodec's appendItem.
func reportOK[T any](appendFn func(b []byte, v *T, ok *bool) []byte) func(b []byte, v T) ([]byte, bool) {
	return func(b []byte, v T) ([]byte, bool) {
		ok := true
		b = appendFn(b, &v, &ok)
		return b, ok
	}
}

// writeList answers 200 with a page of n items, item(i) being the i-th. It
// encodes item by item, so no []api.Session (or []api.Device) is built.
func writeList[T any](s *Server, w http.ResponseWriter, c listCodec[T], n int, item func(i int) T, next *string) {
	b := s.bufs.get(n*c.fixedLen + 64)
	b, ok := appendList(b, c, n, item, next)
	if !ok {
		s.bufs.put(b)
		items := make([]T, 0, n)
		for i := range n {
			items = append(items, item(i))
		}
		writeJSON(w, http.StatusOK, c.apiList(items, next))
		return
	}
	writeBuffer(w, b)
	s.bufs.put(b)
}

func writeBuffer(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // the connection is the only thing that can fail here
}

// appendList appends what json.Encoder.Encode writes for the api list (an
// api.SessionList or api.DeviceList) with a non-nil Items of n items and
// NextCursor next. It reports false when encoding/json would fail (a time
// outside years 0-9999); the caller then falls back to encoding/json.
func appendList[T any](b []byte, c listCodec[T], n int, item func(i int) T, next *string) ([]byte, bool) {
	ok := true
	b = append(b, `{"items":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var itemOK bool
		b, itemOK = c.appendItem(b, item(i))
		ok = ok && itemOK
	}
	b = append(b, `],"next_cursor":`...)
	b = appendNullString(b, next)
	b = append(b, "}\n"...)
	return b, ok
}

// appendItem appends one item as the list routes encode it, or what
// encoding/json writes for it where the appender cannot (see appendTime).
func appendItem[T any](b []byte, c listCodec[T], v T) []byte {
	if out, ok := c.appendItem(b, v); ok {
		return out
	}
	out, _ := json.Marshal(v)
	return append(b, out...)
}

func appendSession(b []byte, s *api.Session, ok *bool) []byte {
	b = appendUser(strField(b, `{"id":`, s.ID), `,"user":`, &s.User)
	b = appendNullString(append(b, `,"device_id":`...), s.DeviceID)
	b = strField(b, `,"ip":`, s.IP)
	b = strField(b, `,"user_agent":`, s.UserAgent)
	b = strField(b, `,"client":`, s.Client)
	b = strField(b, `,"location":`, s.Location)
	b = timeField(b, `,"created_at":`, &s.CreatedAt, ok)
	b = timeField(b, `,"last_active_at":`, &s.LastActiveAt, ok)
	b = timeField(b, `,"expires_at":`, &s.ExpiresAt, ok)
	b = timeField(b, `,"updated_at":`, &s.UpdatedAt, ok)
	b = strField(b, `,"status":`, s.Status)
	b = timeField(b, `,"terminated_at":`, s.TerminatedAt, ok)
	b = appendUser(b, `,"terminated_by":`, s.TerminatedBy)
	b = boolField(b, `,"mfa":`, s.MFA)
	b = boolField(b, `,"current":`, s.Current)
	return append(b, '}')
}

func appendDevice(b []byte, d *api.Device, ok *bool) []byte {
	b = appendUser(strField(b, `{"id":`, d.ID), `,"user":`, &d.User)
	b = strField(b, `,"name":`, d.Name)
	b = strField(b, `,"platform":`, d.Platform)
	b = boolField(b, `,"trusted":`, d.Trusted)
	b = timeField(b, `,"trusted_at":`, d.TrustedAt, ok)
	b = timeField(b, `,"first_seen_at":`, &d.FirstSeenAt, ok)
	b = timeField(b, `,"last_seen_at":`, &d.LastSeenAt, ok)
	b = strField(b, `,"last_ip":`, d.LastIP)
	b = timeField(b, `,"updated_at":`, &d.UpdatedAt, ok)
	return append(b, '}')
}

// appendUser writes the key (its leading { or , and quotes included) and
// the user, null for nil.
func appendUser(b []byte, key string, u *api.User) []byte {
	b = append(b, key...)
	if u == nil {
		return append(b, "null"...)
	}
	b = strField(b, `{"id":`, u.ID)
	b = strField(b, `,"email":`, u.Email)
	b = strField(b, `,"name":`, u.Name)
	return append(b, '}')
}

// The field appenders write a key (with its leading { or , and quotes)
// and its value.

func strField(b []byte, key, v string) []byte {
	return appendJSONString(append(b, key...), v)
}

func boolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

// timeField writes null for nil.
func timeField(b []byte, key string, t *time.Time, ok *bool) []byte {
	return appendNullTime(append(b, key...), t, ok)
}

func appendNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

func appendNullTime(b []byte, t *time.Time, ok *bool) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendTime(b, *t, ok)
}

// appendTime writes what time.Time.MarshalJSON writes: RFC 3339 with
// nanoseconds as needed. MarshalJSON refuses years outside 0-9999 (and
// encoding/json then fails the whole answer); ok turns false for those so
// the caller can let encoding/json produce exactly that failure.
func appendTime(b []byte, t time.Time, ok *bool) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		*ok = false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's appendString with HTML escaping (what
// json.Encoder does by default): <, > and & become \u003c, \u003e, \u0026;
// control characters are escaped; invalid UTF-8 becomes \ufffd; U+2028 and
// U+2029 are escaped.
func appendJSONString(dst []byte, src string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			if htmlSafe(c) {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// htmlSafe reports whether an ASCII byte is written as is by encoding/json
// with HTML escaping on.
func htmlSafe(c byte) bool {
	return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}
