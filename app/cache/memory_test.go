//go:build linux && cgo

package cache_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/internal/cmem"
)

// After a sync and a load the file's connections hold their page caches
// full; ReleaseMemory empties them, and the store goes on working.
func TestReleaseMemoryEmptiesThePageCaches(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	st, _ := open(t, filepath.Join(t.TempDir(), "cache"), key(t), nil)
	defer st.Close()
	sess := sampleSessions(20_000, now)
	if _, err := st.Apply(ctx, cache.Snapshot{Full: true, Complete: true, Sessions: sess, SessionsMark: now}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Sessions(ctx); err != nil || len(got) != len(sess) {
		t.Fatalf("Sessions: %d, %v", len(got), err)
	}
	before := cmem.InUse()
	if err := st.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	after := cmem.InUse()
	// 20,000 sealed sessions are ~12 MB of pages; a cache emptied gives
	// back most of them.
	if freed := before - after; freed < 4<<20 {
		t.Errorf("C heap %d → %d KiB: %d KiB freed, want at least 4 MiB", before>>10, after>>10, freed>>10)
	}
	if got, err := st.Sessions(ctx); err != nil || len(got) != len(sess) {
		t.Fatalf("Sessions after ReleaseMemory: %d, %v", len(got), err)
	}
	st.Close()
	if err := st.ReleaseMemory(ctx); err == nil {
		t.Error("ReleaseMemory on a closed store: no error")
	}
}

// A load reads the file mapped into memory, and the mapping ends with the
// scan: left mapped, the file's pages would count in the app's resident
// memory (650 MB at a million sessions). The same for the structural
// check, the counts and a window's rows: each maps the file and unmaps it.
func TestScansMapTheFileOnlyWhileTheyRun(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	dir := filepath.Join(t.TempDir(), "cache")
	st, _ := open(t, dir, key(t), nil)
	defer st.Close()
	if _, err := st.Apply(ctx, cache.Snapshot{Full: true, Complete: true, Sessions: sampleSessions(5_000, now), SessionsMark: now}); err != nil {
		t.Fatal(err)
	}
	path := cache.FilePath(dir, "p1")
	mapped := func() bool {
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		// The WAL's index, path-shm, is always mapped: only path itself
		// ends a line.
		for _, line := range strings.Split(string(maps), "\n") {
			if strings.HasSuffix(line, " "+path) {
				return true
			}
		}
		return false
	}
	var during, batches int
	err := st.EachSession(ctx, func(rows []domain.Session) {
		batches++
		if mapped() {
			during++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches == 0 || during != batches {
		t.Errorf("the file was mapped during %d of %d batches of a load, want all", during, batches)
	}
	if mapped() {
		t.Error("the file is still mapped after the load")
	}
	if err := st.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if mapped() {
		t.Error("the file is still mapped after the structural check")
	}
	if _, _, err := st.SessionWindow(ctx, cache.SessionFilter{}, "last_active_at", true, 0, 100); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Sessions(ctx); err != nil || len(got) != 5_000 {
		t.Fatalf("Sessions after the scans: %d, %v", len(got), err)
	}
	if mapped() {
		t.Error("the file is mapped after a window and a second load")
	}
}
