package index_test

import (
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// While loading, Find asks the Source; what it declines, and every other
// reader, waits for the rows; Adopt ends the load.
func TestLoadingTableUsesSourceThenRows(t *testing.T) {
	now := time.Now()
	rows := gen(500, now)
	tbl := index.NewSessions()
	var asked atomic.Int32
	tbl.BeginLoad(func(q index.Query[domain.Session]) (index.Result[domain.Session], bool) {
		asked.Add(1)
		if q.Search != "" {
			return index.Result[domain.Session]{}, false
		}
		return index.Result[domain.Session]{Items: []domain.Session{{ID: "from-source"}}, Total: 1}, true
	})
	if tbl.Ready() {
		t.Fatal("ready while loading")
	}
	res := tbl.Find(index.Query[domain.Session]{Sort: "last_active_at", Limit: 10}, index.DefaultSessionSort)
	if res.Total != 1 || res.Items[0].ID != "from-source" {
		t.Fatalf("loading table answered %+v", res)
	}

	searched := make(chan index.Result[domain.Session])
	lenDone := make(chan int)
	go func() {
		searched <- tbl.Find(index.Query[domain.Session]{Search: "acme", Sort: "user", Limit: 10}, index.DefaultSessionSort)
	}()
	go func() { lenDone <- tbl.Len() }()
	select {
	case <-searched:
		t.Fatal("a query the source declined did not wait for the rows")
	case <-lenDone:
		t.Fatal("Len did not wait for the rows")
	case <-time.After(50 * time.Millisecond):
	}
	tbl.Adopt(rows)
	if r := <-searched; r.Total == 0 {
		t.Fatal("search after the load found nothing")
	}
	if n := <-lenDone; n != len(rows) {
		t.Fatalf("Len = %d", n)
	}
	before := asked.Load()
	if r := tbl.Find(index.Query[domain.Session]{Sort: "last_active_at", Limit: 10}, index.DefaultSessionSort); r.Total != len(rows) || asked.Load() != before {
		t.Fatalf("loaded table: total %d, source asked again: %v", r.Total, asked.Load() != before)
	}
	if !tbl.Ready() {
		t.Fatal("not ready after Adopt")
	}
}

// A Loader given the rows in parts of any size, each part's buffer
// overwritten once given, builds the table Adopt builds from them whole:
// every row, search, sort and filter agree, packed or not, though it was
// sized for fewer rows than came. Discard leaves the table empty.
func TestLoaderBuildsWhatAdoptBuilds(t *testing.T) {
	now := time.Now()
	rows := gen(5000, now)
	rows[17].Status = "suspended" // a facet string no constant holds
	rows[4000].User.Name = "Zoë Ärger"
	unpacked := func() *index.Table[domain.Session] {
		return index.New(index.Spec[domain.Session]{
			ID:    func(s *domain.Session) string { return s.ID },
			Text:  func(s *domain.Session) string { return s.User.Email + "\n" + s.User.Name + "\n" + s.IP },
			Sorts: map[string]func(*domain.Session) index.Key{"user": func(s *domain.Session) index.Key { return index.Key{Str: s.User.Email} }},
			Facet: func(s *domain.Session) index.Key { return index.Key{Num: s.ExpiresAt.UnixNano(), Str: s.Status} },
		})
	}
	nowN := now.UnixNano()
	queries := []index.Query[domain.Session]{
		{Sort: "user", Limit: 100},
		{Search: "u01", Sort: "user", Desc: true, Offset: 20, Limit: 50},
		{Search: "zoë", Sort: "user", Limit: 10},
		{Sort: "user", FilterKey: "active", KeepFacet: func(f index.Key) bool { return index.ActiveFacet(f, nowN) }, Offset: 3000, Limit: 100},
		{Sort: "user", FilterKey: "suspended", KeepFacet: func(f index.Key) bool { return f.Str == "suspended" }, Limit: 10},
	}
	for name, mk := range map[string]func() *index.Table[domain.Session]{"packed": index.NewSessions, "unpacked": unpacked} {
		want := mk()
		want.Replace(rows)
		got := mk()
		got.BeginLoad(nil)
		l := got.Loader(1000)
		var buf []domain.Session
		for i, at := 0, 0; at < len(rows); i++ {
			n := min([]int{1, 1023, 1024, 2, 2500, 7, 1025}[i%7], len(rows)-at)
			buf = append(buf[:0], rows[at:at+n]...)
			l.Add(buf)
			for j := range buf {
				buf[j] = domain.Session{ID: "overwritten", Status: "overwritten"}
			}
			at += n
		}
		if got.Ready() {
			t.Fatalf("%s: ready before Adopt", name)
		}
		l.Adopt()
		if got.Len() != len(rows) {
			t.Fatalf("%s: %d rows, want %d", name, got.Len(), len(rows))
		}
		for _, r := range rows {
			g, ok := got.Get(r.ID)
			w, _ := want.Get(r.ID)
			if !ok || !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: row %s is %+v, want %+v", name, r.ID, g, w)
			}
		}
		for _, q := range queries {
			g, w := got.Find(q, "user"), want.Find(q, "user")
			if g.Total != w.Total || !reflect.DeepEqual(g.Items, w.Items) {
				t.Fatalf("%s %+v: %d rows, want %d (or other rows)", name, q, g.Total, w.Total)
			}
		}
		if w := want.Find(queries[4], "user"); w.Total != 1 {
			t.Fatalf("%s: the filter on the odd status finds %d rows", name, w.Total)
		}

		l = got.Loader(10)
		l.Add(rows[:100])
		l.Discard()
		if n := got.Len(); n != 0 {
			t.Fatalf("%s: %d rows after Discard", name, n)
		}
	}
}
