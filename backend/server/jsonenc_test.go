package server

import (
	"bytes"
	"encoding/json"
	mrand "math/rand/v2"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"sessiondesk/backend/api"
)

// encodingJSON is the reference the appenders must match byte for byte:
// what writeJSON (json.Encoder.Encode) writes.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostile strings: every escape encoding/json knows, invalid UTF-8, HTML.
var hostile = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "ctl \x00\x01\x08\x0c\n\r\t\x1f\x7f",
	"bad utf8 \xff\xfe \xc3", "line\u2028para\u2029", "Zoë Müller 漢字 🙂", "\xed\xa0\x80 surrogate", "Firefox 133 on Windows"}

func randString(r *mrand.Rand) string {
	if r.IntN(3) == 0 {
		return hostile[r.IntN(len(hostile))]
	}
	b := make([]byte, r.IntN(24))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randTime(r *mrand.Rand) time.Time {
	t := time.Unix(0, r.Int64N(4_000_000_000_000_000_000)).UTC()
	switch r.IntN(4) {
	case 0:
		t = t.Truncate(time.Second) // no fraction
	case 1:
		t = t.Truncate(time.Millisecond) // trailing zeros trimmed
	}
	return t
}

func randUser(r *mrand.Rand) api.User {
	return api.User{ID: randString(r), Email: randString(r), Name: randString(r)}
}

func randSession(r *mrand.Rand) api.Session {
	s := api.Session{ID: randString(r), User: randUser(r), IP: randString(r), UserAgent: randString(r),
		Client: randString(r), Location: randString(r), CreatedAt: randTime(r), LastActiveAt: randTime(r),
		ExpiresAt: randTime(r), UpdatedAt: randTime(r), Status: randString(r), MFA: r.IntN(2) == 0, Current: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		d := randString(r)
		s.DeviceID = &d
	}
	if r.IntN(2) == 0 {
		t := randTime(r)
		s.TerminatedAt = &t
		u := randUser(r)
		s.TerminatedBy = &u
	}
	return s
}

func randDevice(r *mrand.Rand) api.Device {
	d := api.Device{ID: randString(r), User: randUser(r), Name: randString(r), Platform: randString(r),
		Trusted: r.IntN(2) == 0, FirstSeenAt: randTime(r), LastSeenAt: randTime(r), LastIP: randString(r), UpdatedAt: randTime(r)}
	if r.IntN(2) == 0 {
		t := randTime(r)
		d.TrustedAt = &t
	}
	return d
}

func TestListEncodersMatchEncodingJSON(t *testing.T) {
	// Every field of the wire types is written by the appenders: a field
	// added to api.Session or api.Device without them fails here.
	if n := reflect.TypeFor[api.Session]().NumField(); n != 16 {
		t.Fatalf("api.Session has %d fields; update appendSession and this test", n)
	}
	if n := reflect.TypeFor[api.Device]().NumField(); n != 10 {
		t.Fatalf("api.Device has %d fields; update appendDevice and this test", n)
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := range 300 {
		sl := api.SessionList{Items: []api.Session{}}
		dl := api.DeviceList{Items: []api.Device{}}
		for range i % 6 {
			sl.Items = append(sl.Items, randSession(r))
			dl.Items = append(dl.Items, randDevice(r))
		}
		if r.IntN(2) == 0 {
			c := randString(r)
			sl.NextCursor, dl.NextCursor = &c, &c
		}
		got, ok := appendList(nil, sessionCodec, len(sl.Items), func(i int) api.Session { return sl.Items[i] }, sl.NextCursor)
		if want := encodingJSON(t, sl); !ok || !bytes.Equal(got, want) {
			t.Fatalf("sessions (ok %v):\n got %s\nwant %s", ok, got, want)
		}
		got, ok = appendList(nil, deviceCodec, len(dl.Items), func(i int) api.Device { return dl.Items[i] }, dl.NextCursor)
		if want := encodingJSON(t, dl); !ok || !bytes.Equal(got, want) {
			t.Fatalf("devices (ok %v):\n got %s\nwant %s", ok, got, want)
		}
	}
}

func TestListEncoderFallsBackWhereEncodingJSONFails(t *testing.T) {
	for _, y := range []int{-1, 10000} {
		sl := api.SessionList{Items: []api.Session{{CreatedAt: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)}}}
		item := func(i int) api.Session { return sl.Items[i] }
		if _, ok := appendList(nil, sessionCodec, 1, item, nil); ok {
			t.Errorf("year %d: appender claims success", y)
		}
		if _, err := json.Marshal(sl); err == nil {
			t.Errorf("year %d: encoding/json succeeded; the fallback assumption is wrong", y)
		}
		rec := httptest.NewRecorder()
		writeList(&Server{bufs: newBufPool()}, rec, sessionCodec, 1, item, nil)
		ref := httptest.NewRecorder()
		writeJSON(ref, 200, sl)
		if rec.Code != ref.Code || rec.Body.String() != ref.Body.String() {
			t.Errorf("year %d: %d %q, encoding/json path %d %q", y, rec.Code, rec.Body, ref.Code, ref.Body)
		}

		dl := api.DeviceList{Items: []api.Device{{LastSeenAt: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)}}}
		rec, ref = httptest.NewRecorder(), httptest.NewRecorder()
		writeList(&Server{bufs: newBufPool()}, rec, deviceCodec, 1, func(i int) api.Device { return dl.Items[i] }, nil)
		writeJSON(ref, 200, dl)
		if rec.Code != ref.Code || rec.Body.String() != ref.Body.String() {
			t.Errorf("devices, year %d: %d %q, encoding/json path %d %q", y, rec.Code, rec.Body, ref.Code, ref.Body)
		}
		// The live stream encodes single items the same way.
		want, _ := json.Marshal(sl.Items[0])
		if got := appendItem(nil, sessionCodec, sl.Items[0]); !bytes.Equal(got, want) {
			t.Errorf("year %d: live item %q, encoding/json %q", y, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s) // Marshal escapes HTML like Encoder
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

// BenchmarkEncodeSessionPage1000 compares the appender with encoding/json on
// one page of 1000 realistic sessions.
func BenchmarkEncodeSessionPage1000(b *testing.B) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC)
	sl := api.SessionList{Items: make([]api.Session, 1000)}
	for i := range sl.Items {
		d := "dev_2x7kq3mh5tq6u4f3c4n4vd2w7m"
		sl.Items[i] = api.Session{ID: "ses_bj2c3ummeg5xvof5r656wpd3y4", DeviceID: &d,
			User: api.User{ID: "usr_bj2c3ummeg5xvof5r656wpd3y4", Email: "user000123@bigcorp.test", Name: "Zoë Müller"},
			IP:   "2001:db8:1a2b::3c4d", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
			Client: "Firefox 133 on Windows", Location: "Berlin, DE", CreatedAt: now, LastActiveAt: now, ExpiresAt: now,
			UpdatedAt: now, Status: "active", MFA: i%4 == 0}
	}
	item := func(i int) api.Session { return sl.Items[i] }
	b.Run("appender", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1<<20)
		for range b.N {
			buf, _ = appendList(buf[:0], sessionCodec, len(sl.Items), item, nil)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(sl); err != nil {
				b.Fatal(err)
			}
		}
	})
}
