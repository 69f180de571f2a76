package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"sessiondesk/backend/store"
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
// The marks live in the store (store.ReserveAttempt), so every platformd
// process on one database counts together: five failures spread over two
// replicas throttle the account on both, and a restart forgets nothing.
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
	store store.Store
	log   *slog.Logger
}

// attempt is a reservation made by begin; end settles it.
type attempt struct {
	id         string
	accountKey string
}

// Outcomes of an attempt.
type outcome int

const (
	attemptVoid      outcome = iota // neither failure nor success: give the reservation back
	attemptFailed                   // a wrong password or code: the reservation stays counted
	attemptSucceeded                // signed in: give it back and clear the account's failures
)

func newThrottle(cfg ThrottleConfig, clock func() time.Time, st store.Store, log *slog.Logger) *throttle {
	def := DefaultThrottle()
	orDefault(&cfg.AccountLimit, def.AccountLimit)
	orDefault(&cfg.IPLimit, def.IPLimit)
	orDefault(&cfg.Window, def.Window)
	return &throttle{cfg: cfg, clock: clock, store: st, log: log}
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

// begin checks the account's and the IP's limits and, when neither is
// reached, reserves one attempt against both in the same atomic step of
// the store. When a limit is reached it reports how long until the oldest
// counted mark that matters leaves the window.
func (t *throttle) begin(ctx context.Context, account, ip string) (*attempt, time.Duration, bool, error) {
	// The store keeps the SHA-256 of the account (organization and e-mail,
	// NUL-separated): no e-mail addresses in the throttle table, and no NUL
	// byte, which PostgreSQL text cannot hold.
	sum := sha256.Sum256([]byte(account))
	a := &attempt{accountKey: "a:" + hex.EncodeToString(sum[:])}
	keys := []store.ThrottleKey{{Key: a.accountKey, Limit: t.cfg.AccountLimit}, {Key: "i:" + ipKey(ip), Limit: t.cfg.IPLimit}}
	r, err := t.store.ReserveAttempt(ctx, keys, t.clock(), t.cfg.Window)
	if err != nil {
		return nil, 0, false, fmt.Errorf("throttle: %w", err)
	}
	if !r.OK {
		return nil, r.Wait, false, nil
	}
	a.id = r.ID
	return a, 0, true, nil
}

// end settles an attempt: a failure keeps its marks; anything else removes
// them, and a success also clears the account's settled failures (other
// attempts still in flight keep their reservations). It runs even when the
// client has gone away; a failure to settle is logged, and an unsettled
// reservation simply counts until it leaves the window.
func (t *throttle) end(ctx context.Context, a *attempt, o outcome) {
	clear := ""
	if o == attemptSucceeded {
		clear = a.accountKey
	}
	if err := t.store.SettleAttempt(context.WithoutCancel(ctx), a.id, o == attemptFailed, clear); err != nil {
		t.log.Warn("settling a sign-in attempt failed", "err", err)
	}
}
