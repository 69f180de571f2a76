package server

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"sessiondesk/backend/api"
)

// Load shedding. Each route class (sign-in, reads, writes) runs at most
// Concurrent requests at once; up to Queue more wait for a slot, each for at
// most ShedConfig.MaxWait. A request that finds the queue full, or waits
// longer, is answered at once with 503 unavailable and Retry-After, which the
// app's client honours. So under any load the requests that are served wait
// at most MaxWait plus their own service time, instead of every request
// getting slower until all of them time out (measured before this existed:
// 1,000 clients asking for 1000-row pages saw 24.8 s and no 503).
//
// Classes are separate so that a flood of list reads does not starve
// sign-ins or terminations, and bcrypt-heavy sign-ins do not starve reads.
// /healthz is never shed: a load balancer must not take a busy replica for a
// dead one.

// ClassLimit bounds one route class.
type ClassLimit struct {
	Concurrent int // requests served at once (0: the default)
	Queue      int // requests waiting for a slot (0: the default; <0: none)
}

// ShedConfig configures load shedding. Zero fields take DefaultShed's.
type ShedConfig struct {
	Reads, Writes, Logins ClassLimit
	// MaxWait is how long a request may wait in its class's queue.
	MaxWait time.Duration
	// RetryAfter is what a shed request is told to wait (rounded up to
	// whole seconds, at least 1).
	RetryAfter time.Duration
	// Off serves everything without limits (benchmarks of raw capacity).
	Off bool
}

// DefaultShed is sized for a small machine: SQLite serves reads on 4
// connections and writes on 1, and a sign-in spends ~50 ms of CPU in bcrypt.
// What bounds the latency of served requests is MaxWait; the queue only
// bounds the goroutines and connections held waiting. It is long enough that
// a burst of cheap requests (200 clients polling an idle feed) queues for a
// few milliseconds instead of being shed.
func DefaultShed() ShedConfig {
	cpus := runtime.GOMAXPROCS(0)
	return ShedConfig{
		Reads:      ClassLimit{Concurrent: max(8, 2*cpus), Queue: 1000},
		Writes:     ClassLimit{Concurrent: 4, Queue: 1000},
		Logins:     ClassLimit{Concurrent: max(4, cpus), Queue: 1000},
		MaxWait:    time.Second,
		RetryAfter: time.Second,
	}
}

func (c ShedConfig) withDefaults() ShedConfig {
	d := DefaultShed()
	fill := func(l *ClassLimit, def ClassLimit) {
		if l.Concurrent <= 0 {
			l.Concurrent = def.Concurrent
		}
		if l.Queue == 0 {
			l.Queue = def.Queue
		}
		if l.Queue < 0 {
			l.Queue = 0
		}
	}
	fill(&c.Reads, d.Reads)
	fill(&c.Writes, d.Writes)
	fill(&c.Logins, d.Logins)
	if c.MaxWait <= 0 {
		c.MaxWait = d.MaxWait
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = d.RetryAfter
	}
	return c
}

// limiter is one class's slots and queue.
type limiter struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
}

func newLimiter(l ClassLimit, maxWait time.Duration) *limiter {
	return &limiter{slots: make(chan struct{}, l.Concurrent), queue: int64(l.Queue), maxWait: maxWait}
}

// acquire takes a slot, waiting in the queue if there is room; false means
// shed. Waiters get slots in arrival order (a channel's senders queue FIFO).
func (l *limiter) acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return false
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.maxWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done(): // the client left; its place goes to the next
		return false
	}
}

func (l *limiter) release() { <-l.slots }

// shedder holds the limiter of each class.
type shedder struct {
	reads, writes, logins *limiter
	retryAfter            time.Duration
}

func newShedder(c ShedConfig) *shedder {
	if c.Off {
		return nil
	}
	c = c.withDefaults()
	return &shedder{
		reads:      newLimiter(c.Reads, c.MaxWait),
		writes:     newLimiter(c.Writes, c.MaxWait),
		logins:     newLimiter(c.Logins, c.MaxWait),
		retryAfter: c.RetryAfter,
	}
}

// limiterFor is the class of a route; nil means never shed. Long-lived
// streams (the events route) are not shed either: they would hold a read
// slot for their whole life.
func (s *shedder) limiterFor(rt Route) *limiter {
	switch {
	case s == nil || rt.Pattern == "/healthz" || rt.Pattern == api.BasePath+"/events":
		return nil
	case rt.Pattern == api.BasePath+"/auth/login":
		return s.logins
	case rt.Method == "GET":
		return s.reads
	default:
		return s.writes
	}
}

func (s *shedder) busy() *Error {
	return &Error{Code: api.CodeUnavailable, Message: "the platform is busy; try again shortly", RetryAfter: s.retryAfter}
}
