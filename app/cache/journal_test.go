package cache_test

import (
	"context"
	"os"
	"testing"
	"time"

	"sessiondesk/app/cache"
)

// TestFullSnapshotLeavesNoLargeJournal: after a full snapshot the write-
// ahead log is emptied, so the cache takes the database's size on disk,
// not twice it.
func TestFullSnapshotLeavesNoLargeJournal(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	st, _ := open(t, dir, key(t), func() time.Time { return now })
	path := cache.FilePath(dir, "p1")
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: largeSessions(10_000, now)}); err != nil {
		t.Fatal(err)
	}
	db, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err == nil && wal.Size() > db.Size()/10 {
		t.Errorf("journal %d bytes beside a database of %d after a full snapshot", wal.Size(), db.Size())
	}
}
