package syncer_test

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// released counts Config.Released calls and checks that each comes while
// nobody holds the sync lock.
type released struct {
	t        *testing.T
	sessions *index.Table[domain.Session]
	sync     *syncer.Syncer
	calls    chan struct{}
	growing  atomic.Int32 // Config.Growing calls
}

func (r *released) hook() {
	// Released must not run under the sync lock: a sync must be able to
	// run now. (A deadlock here fails the test by its timeout.)
	if _, err := r.sync.SyncNow(context.Background()); err != nil {
		r.t.Errorf("sync from Released: %v", err)
	}
	r.calls <- struct{}{}
}

func (r *released) want(n int) {
	r.t.Helper()
	for i := range n {
		select {
		case <-r.calls:
		case <-time.After(10 * time.Second):
			r.t.Fatalf("Released called %d times, want %d", i, n)
		}
	}
	select {
	case <-r.calls:
		r.t.Fatalf("Released called more than %d times", n)
	case <-time.After(200 * time.Millisecond):
	}
}

func (r *released) grew(n int32) {
	r.t.Helper()
	if got := r.growing.Load(); got != n {
		r.t.Fatalf("Growing called %d times, want %d", got, n)
	}
}

// The freed memory is handed back after a full sync and after a load that
// brought rows, not after a delta (small) or the load of an empty cache;
// Growing comes before each full sync and load.
func TestReleasedAfterFullSyncAndLoadOnly(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	c, _ := platformd.New(p.URL(), httpx.Options{})
	c = c.WithToken(p.Login(t, "acme", "admin@acme.test").Token)
	dir, key := t.TempDir(), newKey()

	open := func() *released {
		st := openCache(t, dir, key)
		r := &released{t: t, sessions: index.NewSessions(), calls: make(chan struct{}, 4)}
		r.sync = syncer.New(syncer.Config{Source: platformd.NewProvider(c), Store: st, Sessions: r.sessions,
			Devices: index.NewDevices(), Audit: syncer.NewAuditTable(), Released: r.hook,
			Growing: func() { r.growing.Add(1) }})
		if err := r.sync.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.sync.WaitLoaded(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := open()
	r.want(0) // an empty cache: nothing was loaded
	r.grew(1)
	if _, err := r.sync.SyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want(1) // the first sync is a full one (and the hook's own delta adds nothing)
	r.grew(2)
	if _, err := r.sync.SyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want(0) // a delta
	r.grew(2)
	if _, err := r.sync.SyncFull(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want(1)
	r.grew(3)

	r2 := open() // a new process: the cache's rows are loaded
	r2.want(1)
	r2.grew(1)
	if r2.sessions.Len() == 0 {
		t.Fatal("nothing loaded")
	}
}

// HoldNearLive sets a limit above the live heap and moves it with what is
// live after each collection; LiftMemoryLimit removes it.
func TestHoldNearLiveFollowsTheLiveHeap(t *testing.T) {
	before := holding(t)
	// 128 MiB more live: the limit must follow it up after a collection
	// (the cleanup that moves it runs after one), not stay where it was
	// and have the runtime collect continuously.
	held := liveFollowedByLimit(t, before)
	runtime.KeepAlive(held)
	syncer.LiftMemoryLimit()
	// Nor may the cleanup armed before set it again after a collection.
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if memoryLimit() != math.MaxInt64 {
		t.Fatalf("limit %d after LiftMemoryLimit", memoryLimit())
	}
}

// Garbage a transient left (a sort's scratch) is collected in the
// background while the limit holds memory near live, and the limit comes
// back down to what is live, instead of waiting for the runtime's next
// collection.
func TestCollectScratchBringsTheLimitBackToLive(t *testing.T) {
	before := holding(t)
	scratch := liveFollowedByLimit(t, before) // live at the collections in there
	runtime.KeepAlive(scratch)
	scratch = nil // garbage now, but nothing collects it: the app is idle
	syncer.CollectScratch(128 << 20)
	deadline := time.Now().Add(10 * time.Second)
	for memoryLimit() > before+64<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("limit still %d MiB 10 s after 128 MiB of scratch was freed (%d MiB before it)", memoryLimit()>>20, before>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memoryLimit reads the soft memory limit without changing it.
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// liveFollowedByLimit allocates 128 MiB and returns it once the limit,
// which was before, has followed it up (after collections, run here).
func liveFollowedByLimit(t *testing.T, before int64) [][]byte {
	t.Helper()
	held := make([][]byte, 128)
	for i := range held {
		held[i] = make([]byte, 1<<20)
		held[i][0] = 1
	}
	deadline := time.Now().Add(10 * time.Second)
	for memoryLimit() < before+128<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB after 128 MiB more live, was %d MiB", memoryLimit()>>20, before>>20)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	return held
}

// holding starts HoldNearLive after a collection and returns the limit it
// set; the limit is lifted when the test ends.
func holding(t *testing.T) int64 {
	t.Helper()
	t.Cleanup(syncer.LiftMemoryLimit)
	runtime.GC()
	syncer.HoldNearLive()
	before := memoryLimit()
	if before == math.MaxInt64 {
		t.Fatal("no limit set")
	}
	return before
}
