package server

import (
	"context"
	"runtime"
	"sync"
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
//
// A request takes its slot only once its body is in memory (decode.go,
// readBody): a client that sends its body slowly holds no slot, so a few
// such clients cannot make everyone else's requests wait (contract v1.2).
//
// Sign-ins need no account, so anyone can send them, and from one address
// as many at once as they like. Before a sign-in enters its class it also
// takes a place among its client IP's (LoginsPerIP: an IPv6 client by its
// /64, with --trust-proxy the address X-Forwarded-For names, as for
// throttling). One address holds at most half the sign-in slots, so
// another address always finds one; the rest of its sign-ins wait for
// their address's turn or get 429 rate_limited with Retry-After at once,
// and never fill the class's queue that everyone else waits in.

// ClassLimit bounds one route class.
type ClassLimit struct {
	Concurrent int // requests served at once (0: the default)
	Queue      int // requests waiting for a slot (0: the default; <0: none)
}

// ShedConfig configures load shedding. Zero fields take DefaultShed's.
type ShedConfig struct {
	Reads, Writes, Logins ClassLimit
	// LoginsPerIP bounds one client IP's sign-ins: Concurrent in the
	// sign-in class at once (served or waiting for a class slot), Queue
	// more waiting for one of those. Zero fields: half of Logins.Concurrent
	// (at least 1) and 8.
	LoginsPerIP ClassLimit
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

// defaultIPQueue is how many sign-ins of one address may wait for that
// address's turn: enough for an office behind one NAT signing in at 9 am
// (each waits ~50 ms of bcrypt per sign-in ahead of it), not enough for one
// client to park hundreds of connections.
const defaultIPQueue = 8

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
	fill(&c.LoginsPerIP, ClassLimit{Concurrent: max(1, c.Logins.Concurrent/2), Queue: defaultIPQueue})
	if c.MaxWait <= 0 {
		c.MaxWait = d.MaxWait
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = d.RetryAfter
	}
	return c
}

// limiter is one class's slots and queue (or one client IP's).
type limiter struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
}

func newLimiter(l ClassLimit) *limiter {
	return &limiter{slots: make(chan struct{}, l.Concurrent), queue: int64(l.Queue)}
}

// acquire takes a slot, waiting in the queue until deadline if there is
// room; false means shed. Waiters get slots in arrival order (a channel's
// senders queue FIFO).
func (l *limiter) acquire(ctx context.Context, deadline time.Time) bool {
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
	t := time.NewTimer(time.Until(deadline))
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

// perIP holds a limiter for each client IP that has a request in flight;
// an entry is dropped when its last request leaves, so the map never holds
// more entries than there are requests.
type perIP struct {
	limit ClassLimit
	mu    sync.Mutex
	ips   map[string]*ipEntry
}

type ipEntry struct {
	lim  *limiter
	refs int // requests holding or waiting for one of its slots
}

func (p *perIP) acquire(ctx context.Context, ip string, deadline time.Time) (*ipEntry, bool) {
	p.mu.Lock()
	e := p.ips[ip]
	if e == nil {
		e = &ipEntry{lim: newLimiter(p.limit)}
		p.ips[ip] = e
	}
	e.refs++
	p.mu.Unlock()
	if e.lim.acquire(ctx, deadline) {
		return e, true
	}
	p.leave(ip, e)
	return nil, false
}

func (p *perIP) release(ip string, e *ipEntry) {
	e.lim.release()
	p.leave(ip, e)
}

func (p *perIP) leave(ip string, e *ipEntry) {
	p.mu.Lock()
	if e.refs--; e.refs == 0 {
		delete(p.ips, ip)
	}
	p.mu.Unlock()
}

// shedder holds the limiter of each class.
type shedder struct {
	reads, writes, logins *limiter
	loginIPs              *perIP
	maxWait, retryAfter   time.Duration
}

func newShedder(c ShedConfig) *shedder {
	if c.Off {
		return nil
	}
	c = c.withDefaults()
	return &shedder{
		reads:      newLimiter(c.Reads),
		writes:     newLimiter(c.Writes),
		logins:     newLimiter(c.Logins),
		loginIPs:   &perIP{limit: c.LoginsPerIP, ips: map[string]*ipEntry{}},
		maxWait:    c.MaxWait,
		retryAfter: c.RetryAfter,
	}
}

// admit takes the places a request of class lim needs: for a sign-in first
// its client IP's (ip, an ipKey), then the class's. Both waits together last
// at most MaxWait. It returns what gives them back, or the answer for a
// request that gets none.
func (s *shedder) admit(ctx context.Context, lim *limiter, ip string) (func(), *Error) {
	deadline := time.Now().Add(s.maxWait)
	var e *ipEntry
	if lim == s.logins {
		var ok bool
		if e, ok = s.loginIPs.acquire(ctx, ip, deadline); !ok {
			return nil, &Error{Code: api.CodeRateLimited, Message: "too many sign-ins from this address at once; try again shortly", RetryAfter: s.retryAfter}
		}
	}
	if !lim.acquire(ctx, deadline) {
		if e != nil {
			s.loginIPs.release(ip, e)
		}
		return nil, s.busy()
	}
	return func() {
		lim.release()
		if e != nil {
			s.loginIPs.release(ip, e)
		}
	}, nil
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
