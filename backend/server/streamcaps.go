package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// Caps on open event streams, counted over every process on one store.
//
// A cap kept in each process's memory lets N replicas behind a load
// balancer hold N times the cap. So each open stream holds a lease in the
// store instead (store.AcquireStream): a row with the stream's ID, its
// organization, session and user, and an expiry. Opening a stream counts
// the unexpired leases of its session, of its user (over all of the user's
// sessions, so that one view holder signed in many times cannot fill the
// organization's cap) and of its organization and inserts its own in one
// atomic step of the store (PostgreSQL: under a transaction-level
// advisory lock per organization; SQLite: its single write lock), so two
// replicas racing for the last place can never both get it. SQLite, one
// process, runs the same code on the same kind of table: one code path.
//
// Liveness without a coordinator: a process renews the leases of all its
// open streams every LeaseTTL/3 in one statement, and deletes a stream's
// lease when it closes. A process that dies (or loses the database) stops
// renewing, and its leases stop counting at most LeaseTTL after their last
// renewal, with nobody to clean up; later acquisitions delete the expired
// rows a bounded batch at a time. A renewal also stores again a lease that
// went missing (expired and deleted while this process could not reach the
// database), so once the database is back the table counts every stream
// that is really open, even if that is over the cap for a while.
//
// Cost: one write when a stream opens, one when it closes, and one renewal
// statement per process (not per stream) every LeaseTTL/3 (15 s by
// default, less often than the pings). Nothing here is on the path of
// event delivery: the renewal runs on its own goroutine, and the release
// after the stream has ended. A store error when opening answers 503
// unavailable rather than a stream the caps do not know of.

// leaseRetryAfter is the Retry-After of a 429 or 503 when opening a stream.
const leaseRetryAfter = 5 * time.Second

// leases holds this process's streams' leases and renews them.
type leases struct {
	st    store.Store
	log   *slog.Logger
	clock func() time.Time
	caps  store.StreamCaps
	ttl   time.Duration

	// renewMu is held through a renewal's write. A release takes it before
	// it forgets a lease, so a renewal that had the lease in hand is over
	// before the release deletes the row: a renewal never stores a
	// released lease again.
	renewMu  sync.Mutex
	mu       sync.Mutex
	open     map[string]store.StreamLease // guarded by mu
	renewing bool                         // a renewal goroutine runs; guarded by mu
}

func newLeases(st store.Store, log *slog.Logger, clock func() time.Time, caps store.StreamCaps, ttl time.Duration) *leases {
	return &leases{st: st, log: log, clock: clock, caps: caps, ttl: ttl, open: map[string]store.StreamLease{}}
}

// acquire takes a place under the caps for a stream of the user's session
// and returns its lease ID, to release when the stream ends.
func (ls *leases) acquire(ctx context.Context, orgID, sessionID, userID string) (string, error) {
	l := store.StreamLease{ID: store.NewID(store.PrefixStream), OrgID: orgID, SessionID: sessionID, UserID: userID}
	now := ls.clock()
	full, err := ls.st.AcquireStream(ctx, l, ls.caps, now, now.Add(ls.ttl))
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) || store.ErrorCode(err) == store.EUnavailable {
			return "", err // the client left, or the one table's 503
		}
		// Whatever else failed, the stream would not be counted.
		ls.log.Error("acquiring an event-stream lease failed", "org_id", orgID, "err", err)
		return "", &Error{Code: api.CodeUnavailable, RetryAfter: leaseRetryAfter,
			Message: "event streams cannot be opened right now; try again shortly"}
	case full == store.StreamCapSession:
		return "", &Error{Code: api.CodeRateLimited, RetryAfter: leaseRetryAfter,
			Message: "this session has too many open event streams; close one first"}
	case full == store.StreamCapUser:
		return "", &Error{Code: api.CodeRateLimited, RetryAfter: leaseRetryAfter,
			Message: fmt.Sprintf("you have too many open event streams (at most %d over all your sessions); close one first", ls.caps.PerUser)}
	case full != "":
		return "", &Error{Code: api.CodeRateLimited, RetryAfter: leaseRetryAfter,
			Message: "the organization has too many open event streams; try again later"}
	}
	ls.mu.Lock()
	ls.open[l.ID] = l
	if !ls.renewing {
		ls.renewing = true
		go ls.renew()
	}
	ls.mu.Unlock()
	return l.ID, nil
}

// release gives a stream's place back. It runs when the stream has ended
// (the request's context is over by then); a failure is logged, and the
// lease, no longer renewed, expires by itself.
func (ls *leases) release(id string) {
	ls.renewMu.Lock()
	ls.mu.Lock()
	delete(ls.open, id)
	ls.mu.Unlock()
	ls.renewMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), ls.ttl/3)
	defer cancel()
	if err := ls.st.ReleaseStream(ctx, id); err != nil {
		ls.log.Warn("releasing an event-stream lease failed; it expires by itself", "err", err)
	}
}

// renew renews the open leases every ttl/3 while there are any; it ends
// when a tick finds none (acquire starts it again).
func (ls *leases) renew() {
	t := time.NewTicker(ls.ttl / 3)
	defer t.Stop()
	for range t.C {
		if !ls.renewOnce() {
			return
		}
	}
}

// renewOnce renews every open lease in one store call; false when there
// was none (and the goroutine ends).
func (ls *leases) renewOnce() bool {
	ls.renewMu.Lock()
	defer ls.renewMu.Unlock()
	ls.mu.Lock()
	if len(ls.open) == 0 {
		ls.renewing = false
		ls.mu.Unlock()
		return false
	}
	batch := make([]store.StreamLease, 0, len(ls.open))
	for _, l := range ls.open {
		batch = append(batch, l)
	}
	ls.mu.Unlock()
	// Bounded by the next tick: a hung database delays no release for long.
	ctx, cancel := context.WithTimeout(context.Background(), ls.ttl/3)
	defer cancel()
	if err := ls.st.RenewStreams(ctx, batch, ls.clock().Add(ls.ttl)); err != nil {
		// Retried at the next tick; the leases count until they expire.
		ls.log.Warn("renewing event-stream leases failed", "streams", len(batch), "err", err)
	}
	return true
}
