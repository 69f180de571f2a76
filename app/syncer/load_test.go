package syncer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/syncer"
)

func manySessions(n int, now time.Time) []domain.Session {
	out := make([]domain.Session, n)
	for i := range out {
		out[i] = domain.Session{ID: fmt.Sprintf("ses_%05d", i), User: domain.Person{ID: "usr", Email: fmt.Sprintf("u%05d@x.test", i)},
			UserAgent: strings.Repeat("agent ", 20), Status: domain.StatusActive, CreatedAt: now, LastActiveAt: now.Add(-time.Duration(i) * time.Second),
			ExpiresAt: now.Add(time.Hour), UpdatedAt: now}
	}
	return out
}

// Load returns at once; the first window is answered from SQL and equals
// the index's once loaded.
func TestLoadAnswersFirstWindowThenIndex(t *testing.T) {
	now := time.Now().UTC()
	st := openCache(t, t.TempDir(), newKey())
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: manySessions(3000, now)}); err != nil {
		t.Fatal(err)
	}
	tbl := index.NewSessions()
	s := syncer.New(syncer.Config{Store: st, Sessions: tbl, Devices: index.NewDevices(), Audit: syncer.NewAuditTable()})
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := index.Query[domain.Session]{Sort: index.DefaultSessionSort, Desc: true, Offset: 10, Limit: 50, FilterKey: "all", Clear: cache.SessionFilter{}}
	first := tbl.Find(q, index.DefaultSessionSort)
	if err := s.WaitLoaded(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !tbl.Ready() || tbl.Len() != 3000 {
		t.Fatalf("loaded %d rows", tbl.Len())
	}
	after := tbl.Find(q, index.DefaultSessionSort)
	if first.Total != after.Total || len(first.Items) != 50 || len(after.Items) != 50 {
		t.Fatalf("totals %d vs %d, %d/%d items", first.Total, after.Total, len(first.Items), len(after.Items))
	}
	for i := range first.Items {
		if first.Items[i].ID != after.Items[i].ID || first.Items[i].User.Email != after.Items[i].User.Email {
			t.Fatalf("row %d: %s vs %s", i, first.Items[i].ID, after.Items[i].ID)
		}
	}
}

// A file damaged where opening does not look is found by the check that
// runs after the load, moved aside and rebuilt; nothing crashes.
func TestDamageFoundAfterLoadIsRebuilt(t *testing.T) {
	dir, key := t.TempDir(), newKey()
	now := time.Now().UTC()
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: manySessions(3000, now)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, "p.db")
	data, _ := os.ReadFile(path)
	for i := len(data) * 6 / 10 / 4096 * 4096; i < len(data)*9/10; i += 4096 {
		copy(data[i:], bytes.Repeat([]byte{0xA5}, 300))
	}
	os.WriteFile(path, data, 0o600)

	st = openCache(t, dir, key)
	var notice atomic.Value
	s := syncer.New(syncer.Config{Store: st, Sessions: index.NewSessions(), Devices: index.NewDevices(), Audit: syncer.NewAuditTable(),
		CacheNotice: func(lost *cache.Loss, err error) {
			if lost != nil && err == nil {
				notice.Store("rebuilt empty; the damaged file kept as " + lost.Aside)
			}
		}})
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitLoaded(context.Background()); !cache.IsDamaged(err) {
		t.Fatalf("load of a damaged file: %v", err)
	}
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) == 0 {
		t.Fatal("damaged file not moved aside")
	}
	// Told through the notice, which the next sync's status cannot
	// overwrite.
	if msg, _ := notice.Load().(string); !strings.Contains(msg, "rebuilt") {
		t.Fatalf("cache notice %q", msg)
	}
	if got, err := st.Sessions(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("rebuilt cache: %d rows, %v", len(got), err)
	}
	if state, _ := st.State(context.Background()); !state.SnapshotAt.IsZero() {
		t.Fatal("rebuilt cache claims a snapshot: the next sync would not be full")
	}
}
