package server

import (
	"net/netip"
	"sync"
	"time"
)

// ThrottleConfig limits failed sign-ins. A failure (wrong organization,
// e-mail, password or TOTP code) counts against the account (organization +
// e-mail, whether or not it exists) and against the client IP (an IPv6
// client by its /64, an IPv4-mapped IPv6 address as the IPv4 address). While
// either has reached its limit within the sliding Window, login answers 429
// rate_limited with Retry-After, before checking the password. A successful
// sign-in clears the account's failures (not the IP's).
//
// Every sign-in attempt reserves its failure before the password is checked,
// in the same locked step that checks the limits: parallel attempts cannot
// all pass the check while the first ones are still inside bcrypt. An
// attempt that does not fail (success, a TOTP challenge, an internal error)
// gives its reservation back. So at most the limit of attempts are ever
// checked per window, however many arrive at once.
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

	mu     sync.Mutex
	fails  map[string][]mark // key → failures and reservations, oldest first
	nextID uint64
	ops    int
}

// mark is a counted failure, or a reservation of an attempt in flight
// (pending) that will become a failure or be given back.
type mark struct {
	at      time.Time
	id      uint64
	pending bool
}

// attempt is a reservation made by begin; end settles it.
type attempt struct {
	keys [2]string
	id   uint64
}

// Outcomes of an attempt.
type outcome int

const (
	attemptVoid      outcome = iota // neither failure nor success: give the reservation back
	attemptFailed                   // a wrong password or code: the reservation stays counted
	attemptSucceeded                // signed in: give it back and clear the account's failures
)

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
	return &throttle{cfg: cfg, clock: clock, fails: map[string][]mark{}}
}

// ipKey is the throttling key of a client address: an IPv4 address (also
// when IPv4-mapped in IPv6) as is, an IPv6 address by its /64, since one
// client usually holds a whole /64. Anything unparsable is its own key.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// prune drops marks older than the window; the caller holds mu.
func (t *throttle) prune(key string, now time.Time) []mark {
	f := t.fails[key]
	i := 0
	for i < len(f) && !f[i].at.After(now.Add(-t.cfg.Window)) {
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

// begin checks the account's and the IP's limits and, when neither is
// reached, reserves one attempt against both in the same locked step. When a
// limit is reached it reports how long until the oldest counted mark that
// matters leaves the window.
func (t *throttle) begin(account, ip string) (*attempt, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	a := &attempt{keys: [2]string{"a:" + account, "i:" + ipKey(ip)}}
	limits := [2]int{t.cfg.AccountLimit, t.cfg.IPLimit}
	var wait time.Duration
	for i, key := range a.keys {
		f := t.prune(key, now)
		if len(f) >= limits[i] {
			// The limit-th newest mark must leave the window.
			wait = max(wait, f[len(f)-limits[i]].at.Add(t.cfg.Window).Sub(now), time.Second)
		}
	}
	if wait > 0 {
		return nil, wait, false
	}
	t.nextID++
	a.id = t.nextID
	for _, key := range a.keys {
		t.fails[key] = append(t.fails[key], mark{at: now, id: a.id, pending: true})
	}
	// Forget idle keys now and then, so a spray of e-mails cannot grow the
	// map without bound.
	t.ops++
	if t.ops%1024 == 0 {
		for k := range t.fails {
			t.prune(k, now)
		}
	}
	return a, 0, true
}

// end settles an attempt: a failure keeps its mark (no longer pending);
// anything else removes it, and a success also clears the account's settled
// failures (other attempts still in flight keep their reservations).
func (t *throttle) end(a *attempt, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, key := range a.keys {
		f := t.fails[key]
		out := f[:0]
		for _, m := range f {
			switch {
			case m.id == a.id && o == attemptFailed:
				m.pending = false
			case m.id == a.id:
				continue
			case i == 0 && o == attemptSucceeded && !m.pending:
				continue
			}
			out = append(out, m)
		}
		if len(out) == 0 {
			delete(t.fails, key)
		} else {
			t.fails[key] = out
		}
	}
}
