package syncer

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"sessiondesk/app/index"
	"sessiondesk/app/internal/cmem"
)

// warm builds the sessions' default order and the order by user in the
// background, so that the first query after a load or a sync does not wait
// for a sort of the whole table. The order by user is the one a search by
// person is read in: at 1,000,000 sessions its first build on the first
// keystroke took ~0.3 s (more on a loaded machine), and the search bench's
// p99 was that wait. It costs 4 bytes a session (4 MB at a million) for as
// long as the rows are held, and each later delta patches it as it does the
// default order, into a copy: at a million ~2 ms and 4 MB of garbage more
// a delta (docs/bench.md, "A broad search at a million rows"). The channel
// closes once both are built.
func (s *Syncer) warm() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.cfg.Sessions.Warm(index.DefaultSessionSort)
		s.cfg.Sessions.Warm("user")
	}()
	return done
}

// release calls Config.Released in the background once after is closed
// (nil: at once). A full sync or a load leaves far more free heap than the
// rows it brought: the pages, their decoding, the interner's tables, the
// sort's scratch. Go's runtime keeps freed pages for reuse up to about
// its next heap goal (twice the live heap) and returns the rest slowly,
// so without this the process stays that large: measured at 1,000,000
// sessions, 1.5 GiB of RSS for 0.5 GiB of live heap (docs/bench.md).
// after is the default order being built: its scratch is garbage too
// once it is done.
func (s *Syncer) release(after <-chan struct{}) {
	if s.cfg.Released == nil {
		return
	}
	go func() {
		if after != nil {
			<-after
		}
		s.cfg.Released()
	}()
}

// heapHeld is what the Go runtime holds in memory now: everything it
// mapped but has not handed back (heap, free or not, stacks, metadata).
func heapHeld() uint64 {
	m := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64() - m[1].Value.Uint64()
}

// ReleaseMemory hands every free page of the Go heap back to the system
// (debug.FreeOSMemory: a forced collection, then the scavenge), then the
// C heap's (cmem.Trim), and logs what it gave back and how long it took.
// The collection marks the whole live heap, so it belongs where a large
// transient has just ended (a Config.Released), never on the UI's path.
// It returns the time it took.
func ReleaseMemory(log *slog.Logger) time.Duration {
	before := heapHeld()
	start := time.Now()
	debug.FreeOSMemory()
	cmem.Trim()
	took := time.Since(start)
	after := heapHeld()
	if log != nil {
		log.Info("returned freed memory to the system", "took", took.Round(time.Microsecond),
			"held_before_mib", before>>20, "held_after_mib", after>>20)
	}
	return took
}
