package server

import (
	"context"
	"sync"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// The per-organization hub of the live streams (events.go tells the whole
// design): one goroutine per organization with streams reads the store's
// changes once and fans them out to the organization's streams.

// hubBatch is how many changes a hub or a resuming stream reads at once.
const hubBatch = 500

// hub holds the organizations' hubs and this process's streams' leases.
type hub struct {
	s      *Server
	cfg    EventsConfig
	leases *leases // the places under the caps, in the store (streamcaps.go)

	mu      sync.Mutex
	orgs    map[string]*orgHub
	open    int           // streams subscribed on this process
	closing chan struct{} // closed by CloseStreams
	closed  bool
}

// orgHub reads one organization's changes and fans them out.
type orgHub struct {
	orgID string
	wake  chan struct{} // capacity 1: wake-ups coalesce
	stop  chan struct{}
	subs  map[*subscriber]struct{} // guarded by hub.mu
	// streams counts the streams attached to this hub: those in subs and
	// those it dropped that have not re-attached yet (resubscribe). The hub
	// reads while any is attached. Counting subs alone stopped it when the
	// last other stream left while a dropped one was still sending its
	// buffer; that one then re-attached to a hub that never read again, and
	// its stream went on pinging with no changes (issue 18, finding 8).
	streams int             // guarded by hub.mu
	pos     store.ChangePos // written under hub.mu by run only
}

// subscriber is one stream's end of its hub.
type subscriber struct {
	org     *orgHub
	ch      chan *liveEvent
	dropped chan struct{} // closed when the hub gave up on it
}

// liveEvent is one change, encoded once for every stream.
type liveEvent struct {
	pos     store.ChangePos
	id      string // the resume token of pos, encoded once for every stream
	kind    string
	data    []byte         // the JSON object as any caller but the session's own sees it
	session *store.Session // session events: re-encoded with current for its own stream
}

func newHub(s *Server, cfg EventsConfig) *hub {
	h := &hub{s: s, cfg: cfg, orgs: map[string]*orgHub{}, closing: make(chan struct{}),
		leases: newLeases(s.store, s.log, s.clock, store.StreamCaps{PerSession: cfg.MaxPerSession, PerUser: cfg.MaxPerUser, PerOrg: cfg.MaxPerOrg}, cfg.LeaseTTL)}
	cfg.Notifier.Subscribe(h.wake)
	return h
}

// wake makes the organization's hub ("" every hub) read again.
func (h *hub) wake(orgID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, o := range h.orgs {
		if orgID == "" || id == orgID {
			select {
			case o.wake <- struct{}{}:
			default:
			}
		}
	}
}

// subscribe registers a stream, which holds a lease under the caps
// already, and returns the hub's position: the stream gets every change
// after it. head is the store's head, the position of a hub that starts
// now.
func (h *hub) subscribe(orgID string, head store.ChangePos) (*subscriber, store.ChangePos, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, store.ChangePos{}, errorf(api.CodeUnavailable, "the server is shutting down")
	}
	o := h.orgs[orgID]
	if o == nil {
		o = &orgHub{orgID: orgID, wake: make(chan struct{}, 1), stop: make(chan struct{}),
			subs: map[*subscriber]struct{}{}, pos: head}
		h.orgs[orgID] = o
		go h.run(o)
	}
	sub := &subscriber{org: o, ch: make(chan *liveEvent, h.cfg.Buffer), dropped: make(chan struct{})}
	o.subs[sub] = struct{}{}
	o.streams++
	h.open++
	return sub, o.pos, nil
}

// resubscribe replaces a dropped subscriber of the same stream (its lease
// under the caps stays held) and returns the hub's position.
func (h *hub) resubscribe(old *subscriber) (*subscriber, store.ChangePos) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := old.org // alive: the dropped stream still counts in o.streams
	sub := &subscriber{org: o, ch: make(chan *liveEvent, h.cfg.Buffer), dropped: make(chan struct{})}
	o.subs[sub] = struct{}{}
	return sub, o.pos
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open--
	o := sub.org
	delete(o.subs, sub)
	o.streams--
	if o.streams == 0 && h.orgs[o.orgID] == o {
		delete(h.orgs, o.orgID)
		close(o.stop)
	}
}

// closeAll ends every stream (server shutdown) and refuses new ones.
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
}

// run reads the organization's changes whenever woken or polled, until the
// organization's last stream leaves.
func (h *hub) run(o *orgHub) {
	poll := time.NewTicker(h.cfg.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-o.wake:
		case <-poll.C:
		}
		h.drain(o)
	}
}

// drain hands every change after the hub's position to its streams.
func (h *hub) drain(o *orgHub) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		// Only this goroutine writes o.pos, so it may read it unlocked.
		changes, err := h.s.store.Changes(ctx, o.orgID, o.pos, hubBatch)
		if err != nil {
			// The next wake-up or poll tries again from the same position.
			h.s.log.Warn("reading changes failed", "org_id", o.orgID, "err", err)
			return
		}
		if len(changes) == 0 {
			return
		}
		now := h.s.clock()
		evs := make([]*liveEvent, len(changes))
		for i, c := range changes {
			evs[i] = encodeChange(c, now, "")
		}
		h.mu.Lock()
		for sub := range o.subs {
			for _, ev := range evs {
				select {
				case sub.ch <- ev:
				default:
					// Too far behind: drop it rather than wait for it or
					// buffer without bound. It resumes by its last id.
					delete(o.subs, sub)
					close(sub.dropped)
				}
				if _, ok := o.subs[sub]; !ok {
					break
				}
			}
		}
		o.pos = changes[len(changes)-1].Pos
		h.mu.Unlock()
		if len(changes) < hubBatch {
			return
		}
	}
}
