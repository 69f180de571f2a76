package index_test

import (
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
