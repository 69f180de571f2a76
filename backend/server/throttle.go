package server

import (
	"sync"
	"time"
)

// ThrottleConfig limits failed sign-ins. A failure (wrong organization,
// e-mail, password or TOTP code) counts against the account (organization +
// e-mail, whether or not it exists) and against the client IP. While either
// has reached its limit within the sliding Window, login answers 429
// rate_limited with Retry-After, before checking the password. A successful
// sign-in clears the account's failures (not the IP's).
//
// Counters live in memory: a restart forgets them, and several platformd
// processes each count on their own.
type ThrottleConfig struct {
	AccountLimit int           // failures per account per Window; 0 means 5
	IPLimit      int           // failures per client IP per Window; 0 means 50
	Window       time.Duration // 0 means 5 minutes
}

// DefaultThrottle returns the configuration zero values stand for.
func DefaultThrottle() ThrottleConfig {
	return ThrottleConfig{AccountLimit: 5, IPLimit: 50, Window: 5 * time.Minute}
}

type throttle struct {
	cfg   ThrottleConfig
	clock func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time // key → failure times, oldest first
	ops   int
}

func newThrottle(cfg ThrottleConfig, clock func() time.Time) *throttle {
	def := DefaultThrottle()
	if cfg.AccountLimit <= 0 {
		cfg.AccountLimit = def.AccountLimit
	}
	if cfg.IPLimit <= 0 {
		cfg.IPLimit = def.IPLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = def.Window
	}
	return &throttle{cfg: cfg, clock: clock, fails: map[string][]time.Time{}}
}

// prune drops failures older than the window; the caller holds mu.
func (t *throttle) prune(key string, now time.Time) []time.Time {
	f := t.fails[key]
	i := 0
	for i < len(f) && !f[i].After(now.Add(-t.cfg.Window)) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.fails, key)
		return nil
	}
	t.fails[key] = f
	return f
}

// blocked reports whether the account or the IP is over its limit and, if
// so, how long until the oldest counted failure leaves the window.
func (t *throttle) blocked(account, ip string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	var wait time.Duration
	for _, k := range []struct {
		key   string
		limit int
	}{{"a:" + account, t.cfg.AccountLimit}, {"i:" + ip, t.cfg.IPLimit}} {
		f := t.prune(k.key, now)
		if len(f) >= k.limit {
			// The limit-th newest failure must leave the window.
			w := f[len(f)-k.limit].Add(t.cfg.Window).Sub(now)
			wait = max(wait, w)
		}
	}
	return wait, wait > 0
}

func (t *throttle) failed(account, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	for _, k := range []struct {
		key   string
		limit int
	}{{"a:" + account, t.cfg.AccountLimit}, {"i:" + ip, t.cfg.IPLimit}} {
		f := append(t.prune(k.key, now), now)
		if len(f) > k.limit {
			f = f[len(f)-k.limit:] // only the newest `limit` matter
		}
		t.fails[k.key] = f
	}
	// Forget idle keys now and then, so a spray of e-mails cannot grow the
	// map without bound.
	t.ops++
	if t.ops%1024 == 0 {
		for k := range t.fails {
			t.prune(k, now)
		}
	}
}

func (t *throttle) succeeded(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "a:"+account)
}
