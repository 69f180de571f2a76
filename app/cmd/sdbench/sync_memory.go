package main

import (
	"runtime"
	"runtime/metrics"
	"time"

	"sessiondesk/app/syncer"
)

// heapWatch follows the Go heap of this process while a sync runs: the
// bench runs the app's real syncer in-process, so its heap is the app's
// Go side during a full sync (the floor's pages are garbage by then and
// collected by start's GC).
type heapWatch struct {
	base, peak uint64
	stop       chan struct{}
	done       chan struct{}
}

const heapObjects = "/memory/classes/heap/objects:bytes" // live and not yet swept

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchHeap collects garbage, notes the heap as the base, and samples it
// every 5 ms until end.
func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{base: heapNow(), stop: make(chan struct{}), done: make(chan struct{})}
	w.peak = w.base
	go func() {
		defer close(w.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.peak = max(w.peak, heapNow())
			}
		}
	}()
	return w
}

// end stops sampling and returns the peak over the base, what stays live
// after a collection over the base (what the sync left in memory: the
// indexes' rows), and how long handing the freed heap back took, done as
// the app does after a full sync (syncer.ReleaseMemory: its collection is
// this one).
func (w *heapWatch) end() (peak, live int64, release time.Duration) {
	close(w.stop)
	<-w.done
	release = syncer.ReleaseMemory(nil)
	return int64(w.peak - w.base), int64(heapNow()) - int64(w.base), release
}

// medianInt is the median of xs (the upper one of an even count, as
// median gives for durations).
func medianInt(xs []int64) int64 {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x)
	}
	return int64(median(ds))
}
