package server

import (
	"context"
	"runtime"
	"sync"
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
// throttling). One address holds at most half the sign-in slots (served or
// queued), so it never fills the class's queue that everyone else waits
// in; the rest of its sign-ins wait for their address's turn or get 429
// rate_limited with Retry-After at once. And a freed sign-in slot goes
// first to the address that holds the fewest (limiter), so that several
// busy addresses together cannot make another wait behind their queue.

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
// Sign-ins run one per CPU: more bcrypt at once than CPUs adds no
// throughput, and leaves no CPU for the short steps of everything else (a
// goroutine woken by the network queues behind the hashing ones). Measured
// with sdbench's sign-in rows on 2 CPUs shared with other work (200 busy
// and 50 slow clients, medians of three runs each): 4 at once gave the
// well-behaved client p50 657 ms / p99 1.7 s, 2 at once 496 ms / 1.2 s;
// in interleaved short runs 664–1044 ms against 225–345 ms (p50).
func DefaultShed() ShedConfig {
	cpus := runtime.GOMAXPROCS(0)
	return ShedConfig{
		Reads:      ClassLimit{Concurrent: max(8, 2*cpus), Queue: 1000},
		Writes:     ClassLimit{Concurrent: 4, Queue: 1000},
		Logins:     ClassLimit{Concurrent: max(2, cpus), Queue: 1000},
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
//
// A slot that frees goes to a waiter at once. Unkeyed, to the earliest. In
// a keyed limiter (the sign-in class, keyed by client IP) it goes to the
// waiter whose key holds the fewest slots, among equals the one whose key
// was granted a slot longest ago (a key with nothing in flight counts as
// never), then the earliest: an address with no sign-in in service goes
// ahead of the queued sign-ins of addresses that are being served or just
// were, so however many busy addresses there are, a newcomer waits for the
// next free slot, not for their queue.
type limiter struct {
	keyed bool
	queue int

	mu      sync.Mutex
	free    int
	waiters []*waiter            // in arrival order
	keys    map[string]*keyState // keyed only: keys holding or waiting for a slot
}

type waiter struct {
	key     string
	ready   chan struct{} // closed when granted a slot
	granted bool          // under the limiter's mu
}

type keyState struct {
	held, waiting int
	granted       time.Time // when it was last granted a slot
}

func newLimiter(l ClassLimit, keyed bool) *limiter {
	return &limiter{keyed: keyed, queue: l.Queue, free: l.Concurrent, keys: map[string]*keyState{}}
}

// acquire takes a slot for key, waiting in the queue until deadline if
// there is room; false means shed.
func (l *limiter) acquire(ctx context.Context, key string, deadline time.Time) bool {
	l.mu.Lock()
	if l.free > 0 { // then nobody waits: a freed slot goes to a waiter first
		l.free--
		l.grant(key)
		l.mu.Unlock()
		return true
	}
	if len(l.waiters) >= l.queue {
		l.mu.Unlock()
		return false
	}
	w := &waiter{key: key, ready: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.wait(key, 1)
	l.mu.Unlock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-w.ready:
		return true
	case <-t.C:
	case <-ctx.Done(): // the client left; its place goes to the next
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.granted { // granted while giving up: the caller releases it
		return true
	}
	for i, o := range l.waiters {
		if o == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			break
		}
	}
	l.wait(key, -1)
	return false
}

func (l *limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keyed {
		l.keys[key].held--
		l.forget(key)
	}
	if len(l.waiters) == 0 {
		l.free++
		return
	}
	next := 0
	if l.keyed { // the queue is bounded (Queue), and so is this scan
		for i, w := range l.waiters {
			if l.before(l.keys[w.key], l.keys[l.waiters[next].key]) {
				next = i
			}
		}
	}
	w := l.waiters[next]
	l.waiters = append(l.waiters[:next], l.waiters[next+1:]...)
	l.grant(w.key)
	l.wait(w.key, -1)
	w.granted = true
	close(w.ready)
}

// before reports whether a's waiters go ahead of b's.
func (l *limiter) before(a, b *keyState) bool {
	if a.held != b.held {
		return a.held < b.held
	}
	return a.granted.Before(b.granted)
}

// grant and wait keep a keyed limiter's bookkeeping of key.
func (l *limiter) grant(key string) {
	if l.keyed {
		k := l.state(key)
		k.held++
		k.granted = time.Now()
	}
}

func (l *limiter) wait(key string, d int) {
	if l.keyed {
		l.state(key).waiting += d
		l.forget(key)
	}
}

func (l *limiter) state(key string) *keyState {
	k := l.keys[key]
	if k == nil {
		k = &keyState{}
		l.keys[key] = k
	}
	return k
}

// forget drops a key with nothing in flight: the map holds at most the
// requests in flight, and the key counts as never granted when it returns.
func (l *limiter) forget(key string) {
	if k := l.keys[key]; k != nil && k.held <= 0 && k.waiting <= 0 {
		delete(l.keys, key)
	}
}

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
		e = &ipEntry{lim: newLimiter(p.limit, false)}
		p.ips[ip] = e
	}
	e.refs++
	p.mu.Unlock()
	if e.lim.acquire(ctx, "", deadline) {
		return e, true
	}
	p.leave(ip, e)
	return nil, false
}

func (p *perIP) release(ip string, e *ipEntry) {
	e.lim.release("")
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
		reads:      newLimiter(c.Reads, false),
		writes:     newLimiter(c.Writes, false),
		logins:     newLimiter(c.Logins, true),
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
	if !lim.acquire(ctx, ip, deadline) {
		if e != nil {
			s.loginIPs.release(ip, e)
		}
		return nil, s.busy()
	}
	return func() {
		lim.release(ip)
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
