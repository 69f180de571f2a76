package index_test

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/fieldcount"
)

// Packed tables must give back every field of the rows they were given:
// a field added to a domain type and not to kinds.go's packers fails here
// instead of vanishing from the list. The rows go through a table (built,
// then a delta with values the table has not seen, then an edit) and come
// back through Get, Find and All.
func TestPackedRowsComeBackWhole(t *testing.T) {
	fieldcount.Check(t, "kinds.go", map[reflect.Type]int{
		reflect.TypeFor[domain.Session](): 16, reflect.TypeFor[domain.Device](): 10, reflect.TypeFor[domain.Person](): 3,
	})
	at := time.Date(2026, 11, 27, 8, 30, 1, 123456789, time.UTC)
	later := at.Add(90 * time.Minute).In(time.FixedZone("", 2*3600))
	earlier := time.Date(1969, 7, 20, 20, 17, 40, 5, time.UTC) // before 1970: negative seconds
	dev, dev2 := "dev_1", "dev_2"
	by := domain.Person{ID: "usr_2", Email: "boss@x.test", Name: "Boss"}
	sessions := []domain.Session{
		{ID: "ses_1", User: domain.Person{ID: "usr_1", Email: "a@x.test", Name: "Ä b"}, DeviceID: &dev, IP: "2001:db8::1",
			UserAgent: "UA", Client: "Firefox", Location: "Oslo, NO", CreatedAt: at, LastActiveAt: later, ExpiresAt: at.Add(time.Hour),
			UpdatedAt: earlier, Status: domain.StatusTerminated, TerminatedAt: &later, TerminatedBy: &by, MFA: true, Current: true},
		{ID: "ses_2"}, // zero times, nil pointers, empty strings
		{ID: "ses_3", User: by, DeviceID: &dev, IP: "192.0.2.1", Client: "Firefox", CreatedAt: at, LastActiveAt: at,
			ExpiresAt: at.Add(12 * time.Hour), UpdatedAt: at, Status: domain.StatusActive, TerminatedAt: &time.Time{}},
	}
	added := domain.Session{ID: "ses_4", User: domain.Person{ID: "usr_9", Email: "new@x.test", Name: "New"}, DeviceID: &dev2,
		IP: "2001:DB8::A", UserAgent: "Other UA", Client: "Safari 18 on macOS", Location: "Lima, PE", CreatedAt: later,
		LastActiveAt: at, ExpiresAt: earlier, UpdatedAt: later, Status: "unknown-status", MFA: true}
	st := index.NewSessions()
	st.Replace(sessions)
	st.Upsert([]domain.Session{added})
	st.Update([]string{"ses_2"}, func(s *domain.Session) bool {
		s.Location, s.TerminatedBy, s.MFA = "Edited, XX", &by, true
		return true
	})
	want := append(slices.Clone(sessions), added)
	want[1].Location, want[1].TerminatedBy, want[1].MFA = "Edited, XX", &by, true
	for _, w := range want {
		if got, ok := st.Get(w.ID); !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("session %s: got %+v\nwant %+v", w.ID, got, w)
		}
	}
	var walked []domain.Session
	for s := range st.All() {
		walked = append(walked, *s)
	}
	if !reflect.DeepEqual(walked, want) {
		t.Errorf("All gave %+v\nwant %+v", walked, want)
	}
	// An address kept in full (not as its lowercase search text) is
	// found as the others are.
	if res := st.Find(index.Query[domain.Session]{Search: "db8::a", Limit: 10}, index.DefaultSessionSort); res.Total != 1 || res.Items[0].IP != "2001:DB8::A" {
		t.Errorf("Find by an address in capitals: %+v", res)
	}
	// The overview's tallies follow the rows through the delta and the edit.
	nanos := func(t time.Time) int64 {
		if t.IsZero() {
			return math.MinInt64
		}
		return t.UnixNano()
	}
	k := 0
	walks := st.Tallies()
	for _, walk := range walks.Parts {
		for f, got := range walk {
			w := want[k]
			if got.A >= index.Sym(walks.Syms) || got.B >= index.Sym(walks.Syms) {
				t.Fatalf("session %s: symbols %d, %d of %d", w.ID, got.A, got.B, walks.Syms)
			}
			if a, b := walks.Text(got.A), walks.Text(got.B); got.At != nanos(w.CreatedAt) || got.Flag != w.MFA || a != w.Client || b != w.Location ||
				f.Str != w.Status || f.Num != w.ExpiresAt.UnixNano() {
				t.Errorf("session %s: tally %+v (%q, %q) facet %+v, want %v %v %q %q", w.ID, got, a, b, f, w.CreatedAt, w.MFA, w.Client, w.Location)
			}
			k++
		}
	}
	if k != len(want) {
		t.Errorf("Tallies gave %d rows, want %d", k, len(want))
	}
	res := st.Find(index.Query[domain.Session]{Search: "ä b", Limit: 10}, index.DefaultSessionSort)
	if res.Total != 1 || !reflect.DeepEqual(res.Items[0], want[0]) {
		t.Errorf("Find by a person's name: %+v", res)
	}

	d := domain.Device{ID: "dev_1", User: by, Name: "Laptop", Platform: "Linux", Trusted: true, TrustedAt: &at,
		FirstSeenAt: earlier, LastSeenAt: later, LastIP: "10.0.0.1", UpdatedAt: at}
	dt := index.NewDevices()
	dt.Replace([]domain.Device{d, {ID: "dev_2"}})
	for _, w := range []domain.Device{d, {ID: "dev_2"}} {
		if got, ok := dt.Get(w.ID); !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("device %s: got %+v\nwant %+v", w.ID, got, w)
		}
	}
	var firstSeen []int64
	for _, walk := range dt.Tallies().Parts {
		for _, x := range walk {
			firstSeen = append(firstSeen, x.At)
		}
	}
	if want := []int64{nanos(earlier), math.MinInt64}; !slices.Equal(firstSeen, want) {
		t.Errorf("device tallies: first seen %v, want %v", firstSeen, want)
	}
}
