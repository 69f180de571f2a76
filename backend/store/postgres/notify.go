package postgres

import (
	"context"
	"sync"
	"time"

	"sessiondesk/backend/store"
)

// notifyChannel is the LISTEN/NOTIFY channel of committed changes.
const notifyChannel = "sessiondesk_changes"

// notifier is the store.ChangeNotifier of replicas sharing one database:
// Notify wakes this process's subscribers at once and, with pg_notify,
// every other process's; one dedicated connection per process LISTENs and
// wakes the local subscribers. A notification carries only the
// organization ID and may be lost (a dropped listener connection) — the
// readers re-read the change order, and poll now and then, so a lost one
// costs latency, never a change. After the listener reconnects it wakes
// everyone once, for whatever it may have missed.
type notifier struct {
	d     *DB
	local *store.LocalNotifier

	mu      sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// Notifier returns the DB's change notifier (one per DB). Its listener
// starts with the first Subscribe and stops when the DB closes.
func (d *DB) Notifier() store.ChangeNotifier {
	d.notifyOnce.Do(func() {
		d.notify = &notifier{d: d, local: store.NewLocalNotifier(), stop: make(chan struct{}), done: make(chan struct{})}
	})
	return d.notify
}

// Notify announces a committed change to every process on the database.
func (n *notifier) Notify(ctx context.Context, orgID string) {
	n.local.Notify(ctx, orgID)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// A failed notification is only latency for the other replicas (they
	// poll); the write itself has committed.
	_, _ = n.d.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, orgID)
}

// Subscribe registers wake for local and remote notifications.
func (n *notifier) Subscribe(wake func(orgID string)) (cancel func()) {
	n.mu.Lock()
	if !n.started && !n.closed {
		n.started = true
		go n.listen()
	}
	n.mu.Unlock()
	return n.local.Subscribe(wake)
}

// close stops the listener (DB.Close calls it).
func (n *notifier) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	started := n.started
	n.mu.Unlock()
	close(n.stop)
	if started {
		<-n.done
	}
}

// listen holds a LISTEN connection taken out of the pool, reconnecting
// with a pause after failures, until close.
func (n *notifier) listen() {
	defer close(n.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-n.stop
		cancel()
	}()
	first := true
	for ctx.Err() == nil {
		n.listenOnce(ctx, !first)
		first = false
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (n *notifier) listenOnce(ctx context.Context, rewake bool) {
	pc, err := n.d.pool.Acquire(ctx)
	if err != nil {
		return
	}
	conn := pc.Hijack() // ours alone from now on; closed below
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return
	}
	if rewake {
		n.local.Notify(ctx, "")
	}
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		n.local.Notify(ctx, msg.Payload)
	}
}
