package syncer

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Between large transients the app holds its rows and little else, but
// Go's default target (GOGC=100) lets the heap grow to twice what is live
// before it collects, and keeps the freed pages for reuse: at a million
// sessions, ~245 MiB live meant ~370 MiB held, whatever ReleaseMemory had
// given back an hour before. HoldNearLive sets a soft memory limit a
// little above what is live (the runtime then collects and hands pages
// back to stay under it), and moves it after every collection as what is
// live grows or shrinks. A full sync or a load lifts it first
// (LiftMemoryLimit): their growth, hundreds of MiB within seconds, would
// otherwise be collected again and again at up to half the CPU (the
// runtime's cap for a limit it cannot keep).

// The limit allows a sixteenth of the live heap, at least limitFloor,
// above the live heap and the runtime's own memory: what the app
// allocates between collections. The runtime keeps 3 % of its heap goal
// under a limit as its own margin, so that is added too. At a million
// sessions (~185 MiB live), UI part of the bench, runs alternating: with
// 8 MiB and no margin added the collector ran nearly all the time the app
// answered (List round trip p50 35 ms in three runs, RSS 387-391 MiB);
// with 32 MiB, 17-20 ms but RSS 398 and 447 MiB; with this, 18-22 ms and
// 397-401 MiB in four (docs/bench.md).
const limitFloor = 16 << 20

var memLimit struct {
	sync.Mutex
	gen uint64 // which HoldNearLive the re-armed cleanup belongs to
	on  bool
}

// HoldNearLive keeps the process's Go memory near its live heap until
// LiftMemoryLimit; call it when a large transient is over (after
// ReleaseMemory).
func HoldNearLive() {
	memLimit.Lock()
	defer memLimit.Unlock()
	if !memLimit.on {
		memLimit.on = true
		memLimit.gen++
		armLimit(memLimit.gen)
	}
	setLimit()
}

// LiftMemoryLimit lets the heap grow as Go's default target does: for a
// large transient (a full sync, a load).
func LiftMemoryLimit() {
	memLimit.Lock()
	memLimit.on = false
	memLimit.gen++
	memLimit.Unlock()
	debug.SetMemoryLimit(math.MaxInt64)
}

// armLimit moves the limit after the next collection, and re-arms itself
// for the one after, for as long as HoldNearLive's gen is current. The
// cleanup of an object nothing refers to runs after a collection.
func armLimit(gen uint64) {
	runtime.AddCleanup(new([64]byte), func(gen uint64) {
		// Under the lock: a LiftMemoryLimit between the check and the
		// setting would otherwise be undone, and a full sync run limited.
		memLimit.Lock()
		defer memLimit.Unlock()
		if memLimit.on && memLimit.gen == gen {
			setLimit()
			armLimit(gen)
		}
	}, gen)
}

// setLimit sets the limit from the last collection's live heap, plus what
// the runtime holds besides the heap (stacks, metadata), plus headroom.
// memLimit is held.
func setLimit() {
	m := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	metrics.Read(m)
	v := func(i int) int64 { return int64(m[i].Value.Uint64()) }
	live := v(0)
	besides := v(1) - v(2) - v(3) - v(4) - v(5)
	debug.SetMemoryLimit(besides + live + live*3/100 + max(live/16, limitFloor))
}

// collecting is set while CollectScratch's collection runs.
var collecting atomic.Bool

// CollectScratch is told (index.Table.OnScratchFreed) that a transient
// left bytes of garbage. While the limit holds memory near live, and the
// garbage is more than the limit's headroom would absorb, it runs a
// collection in the background. The limit then follows the live heap
// without the garbage, and the runtime hands back what is above it. At a
// million sessions, after a first sort by Location, that took the dev
// build from 411-413 MiB to ~361 MiB within seconds instead of two minutes
// (docs/bench.md). During a full sync or a load the limit is lifted, and
// their end hands the memory back (ReleaseMemory).
func CollectScratch(bytes int) {
	if bytes < limitFloor {
		return
	}
	memLimit.Lock()
	on := memLimit.on
	memLimit.Unlock()
	if !on || !collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer collecting.Store(false)
		runtime.GC()
	}()
}
