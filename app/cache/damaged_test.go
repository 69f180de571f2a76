package cache_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"sessiondesk/app/cache"
)

// Files moved aside as damaged hold sealed personal data like the live one:
// a purge deletes them, and so does an Open once they are older than the
// retention limit. Other profiles' files are left alone.
func TestDamagedFilesDeletedOnPurgeAndAfterRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	stamp := func(ago time.Duration) string { return now.Add(-ago).Format("20060102T150405Z") }
	old := "p1.db.damaged-" + stamp(20*24*time.Hour)
	recent := "p1.db.damaged-" + stamp(time.Hour)
	other := "p2.db.damaged-" + stamp(20*24*time.Hour)
	for _, name := range []string{old, old + "-wal", old + "-shm", recent, recent + "-wal", other} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("sealed bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []string {
		es, _ := os.ReadDir(dir)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		slices.Sort(out)
		return out
	}

	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p1", Key: key(t), Retention: 14 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got := list()
	for _, gone := range []string{old, old + "-wal", old + "-shm"} {
		if slices.Contains(got, gone) {
			t.Errorf("%s older than the retention limit survived Open: %v", gone, got)
		}
	}
	for _, kept := range []string{recent, recent + "-wal", other} {
		if !slices.Contains(got, kept) {
			t.Errorf("%s deleted by Open: %v", kept, got)
		}
	}
	st.Close()

	if err := cache.Remove(dir, "p1"); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{other}) {
		t.Fatalf("after purging p1: %v, want only %s", got, other)
	}
}
