//go:build linux && cgo

package cache_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/app/cache"
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
