package store

import (
	"context"
	"sync"
	"time"
)

// The change order: every committed write gives the rows it touched one
// updated_at (audit events: at) from the store-wide write clock, and that
// clock strictly increases in commit order. A change's position is therefore
// (that time, its kind's rank, its id), and "every change after position P"
// is a keyset read over sessions, devices and the audit log. A row changed
// again moves to its new position: the feed reports a row's latest state
// once, exactly like the updated_since delta feed. This order, not any
// notification, is the source of truth for live streams: notifications only
// say "read again", so a lost or coalesced one costs latency, never a change.

// Change kinds; they equal the SSE event names.
const (
	ChangeDevice  = "device"
	ChangeSession = "session"
	ChangeAudit   = "audit"
)

// Ranks order the kinds of one transaction: a sign-in's new device comes
// before its session, and an action's audit event after the rows it changed.
// RankEnd is past every change of a transaction; a head position uses it.
const (
	RankDevice  = 1
	RankSession = 2
	RankAudit   = 3
	RankEnd     = 4
)

// ChangePos is a position in the change order.
type ChangePos struct {
	At   time.Time
	Rank int
	ID   string
}

// Less reports whether p comes before q.
func (p ChangePos) Less(q ChangePos) bool {
	if !p.At.Equal(q.At) {
		return p.At.Before(q.At)
	}
	if p.Rank != q.Rank {
		return p.Rank < q.Rank
	}
	return p.ID < q.ID
}

// Change is one row's latest state at its position; exactly one of Session,
// Device and Audit is set.
type Change struct {
	Pos     ChangePos
	Session *Session
	Device  *Device
	Audit   *AuditEvent
}

// Kind is the change's kind (ChangeSession, ChangeDevice, ChangeAudit).
func (c Change) Kind() string {
	switch {
	case c.Session != nil:
		return ChangeSession
	case c.Device != nil:
		return ChangeDevice
	default:
		return ChangeAudit
	}
}

// ChangeFeed is what live streams need from a store. Store implementations
// provide it beside Store.
type ChangeFeed interface {
	// Changes returns up to limit changes of the organization after the
	// position, in change order.
	Changes(ctx context.Context, orgID string, after ChangePos, limit int) ([]Change, error)
	// ChangeHead is a position at or after every change committed so far
	// (in any organization): reading after it yields only later changes.
	ChangeHead(ctx context.Context) (ChangePos, error)
}

// ChangeNotifier wakes the readers of the change feed. The server calls
// Notify after each write it commits; a store shared by several processes
// (PostgreSQL) implements it with LISTEN/NOTIFY so that Subscribe's wake
// also fires for the writes of the other processes. A notification carries
// no data: readers read the change order again, so notifications may be
// lost, delayed or coalesced without losing a change (readers also poll
// now and then as a safety net).
type ChangeNotifier interface {
	// Notify announces a committed change of the organization ("" when
	// unknown: any organization).
	Notify(ctx context.Context, orgID string)
	// Subscribe calls wake for every notification (of this process and,
	// where the store is shared, of the others) until cancel is called.
	// wake must not block.
	Subscribe(wake func(orgID string)) (cancel func())
}

// LocalNotifier is the in-process ChangeNotifier: enough when a single
// process writes the store (SQLite).
type LocalNotifier struct {
	mu   sync.Mutex
	next int
	subs map[int]func(string)
}

// NewLocalNotifier returns an in-process notifier.
func NewLocalNotifier() *LocalNotifier {
	return &LocalNotifier{subs: map[int]func(string){}}
}

// Notify calls every subscriber's wake.
func (n *LocalNotifier) Notify(_ context.Context, orgID string) {
	n.mu.Lock()
	wakes := make([]func(string), 0, len(n.subs))
	for _, w := range n.subs {
		wakes = append(wakes, w)
	}
	n.mu.Unlock()
	for _, w := range wakes {
		w(orgID)
	}
}

// Subscribe registers wake.
func (n *LocalNotifier) Subscribe(wake func(orgID string)) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.next
	n.next++
	n.subs[id] = wake
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.subs, id)
	}
}
