package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// GET /api/v1/events: the organization's changes as Server-Sent Events.
//
// The store's change order (store.ChangeFeed) is the source of truth. One hub
// per organization (while it has streams) reads the changes after its
// position whenever it is woken — at once by the store.ChangeNotifier after
// each write this server commits, and by a periodic safety poll for writes
// nobody announced (another process, a lost notification) — encodes each
// change once and hands it to every stream of the organization through a
// bounded buffer. A stream that cannot keep up is dropped, never waited
// for: writers and the other streams go on, and the client resumes by its
// last event id.
//
// A resuming stream registers with the hub first and then reads the changes
// after its token from the store itself; it skips every hub event at or
// before the last position it sent, so the union has no gap and no repeat.

// EventsConfig bounds and tunes the live streams. Zero fields take the
// defaults of DefaultEvents.
type EventsConfig struct {
	// MaxPerSession, MaxPerUser and MaxPerOrg cap the open streams of one
	// session, of one user (over all of the user's sessions) and of one
	// organization, counted over every process on the store
	// (streamcaps.go); past a cap the answer is 429.
	MaxPerSession int
	MaxPerUser    int
	MaxPerOrg     int
	// LeaseTTL is how long a stream's place under the caps outlives the
	// last renewal by its process; the process renews its streams every
	// LeaseTTL/3. So a process that dies frees its streams' places within
	// LeaseTTL by itself.
	LeaseTTL time.Duration
	// PingInterval is how long a stream stays silent before a ": ping"
	// comment (the contract promises one at least every 15 s). It is also
	// how often a stream authenticates its caller again (see recheck).
	PingInterval time.Duration
	// PollInterval is the safety poll of each organization's hub.
	PollInterval time.Duration
	// MaxResumeAge: a resume token older than this gets "reset" (the
	// client does a full sync) instead of a replay.
	MaxResumeAge time.Duration
	// Buffer is the number of events a stream may lag behind its hub
	// before it is dropped.
	Buffer int
	// WriteTimeout bounds each write to a stream; it replaces the
	// http.Server's WriteTimeout, which would otherwise cut every stream.
	WriteTimeout time.Duration
	// Notifier wakes the hubs; nil means an in-process store.LocalNotifier.
	Notifier store.ChangeNotifier
}

// DefaultEvents is the configuration platformd serves with.
func DefaultEvents() EventsConfig {
	return EventsConfig{
		MaxPerSession: 4,
		MaxPerUser:    api.MaxStreamsPerUser,
		MaxPerOrg:     5000,
		LeaseTTL:      45 * time.Second,
		PingInterval:  10 * time.Second,
		PollInterval:  time.Second,
		MaxResumeAge:  24 * time.Hour,
		Buffer:        256,
		WriteTimeout:  10 * time.Second,
	}
}

func (c EventsConfig) withDefaults() EventsConfig {
	d := DefaultEvents()
	if c.MaxPerSession <= 0 {
		c.MaxPerSession = d.MaxPerSession
	}
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = d.MaxPerUser
	}
	if c.MaxPerOrg <= 0 {
		c.MaxPerOrg = d.MaxPerOrg
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = d.LeaseTTL
	}
	if c.PingInterval <= 0 {
		c.PingInterval = d.PingInterval
	}
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.MaxResumeAge <= 0 {
		c.MaxResumeAge = d.MaxResumeAge
	}
	if c.Buffer <= 0 {
		c.Buffer = d.Buffer
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.Notifier == nil {
		c.Notifier = store.NewLocalNotifier()
	}
	return c
}

// hubBatch is how many changes a hub or a resuming stream reads at once.
const hubBatch = 500

// sessionCheckInterval is how often a stream judges whether its own session
// has expired; expiry is not a write, so no change announces it.
const sessionCheckInterval = 250 * time.Millisecond

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

// encodeChange encodes a change as the list routes would for the caller of
// session currentID.
func encodeChange(c store.Change, now time.Time, currentID string) *liveEvent {
	ev := &liveEvent{pos: c.Pos, id: encodeEventID(c.Pos), kind: c.Kind(), session: c.Session}
	switch {
	case c.Session != nil:
		ev.data = appendItem(nil, sessionCodec, toSession(*c.Session, now, currentID))
	case c.Device != nil:
		ev.data = appendItem(nil, deviceCodec, toDevice(*c.Device))
	default:
		ev.data, _ = json.Marshal(toAuditEvent(*c.Audit))
	}
	return ev
}

// Resume tokens: the change position, opaque to clients.
func encodeEventID(p store.ChangePos) string {
	raw := strconv.FormatInt(p.At.UnixNano(), 10) + "." + strconv.Itoa(p.Rank) + "." + p.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeEventID(s string) (store.ChangePos, bool) {
	if len(s) > 200 {
		return store.ChangePos{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.ChangePos{}, false
	}
	parts := strings.SplitN(string(raw), ".", 3)
	if len(parts) != 3 {
		return store.ChangePos{}, false
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	rank, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || rank < store.RankDevice || rank > store.RankEnd || len(parts[2]) > 64 {
		return store.ChangePos{}, false
	}
	return store.ChangePos{At: time.Unix(0, at).UTC(), Rank: rank, ID: parts[2]}, true
}

// stream writes one SSE response.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	buf     []byte
	wrote   time.Time
}

// send writes b and flushes it, under a fresh write deadline so the
// server's WriteTimeout cuts a stalled client but never a healthy stream.
func (st *stream) send(b []byte) error {
	if err := st.rc.SetWriteDeadline(time.Now().Add(st.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := st.w.Write(b); err != nil {
		return err
	}
	st.wrote = time.Now()
	return st.rc.Flush()
}

func (st *stream) event(kind, id string, data []byte) error {
	b := st.buf[:0]
	if id != "" {
		b = append(b, "id: "...)
		b = append(b, id...)
		b = append(b, '\n')
	}
	if kind != "" {
		b = append(b, "event: "...)
		b = append(b, kind...)
		b = append(b, '\n')
	}
	if data != nil {
		b = append(b, "data: "...)
		b = append(b, data...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	st.buf = b
	return st.send(b)
}

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	token := r.Header.Get("Last-Event-ID")
	if token == "" {
		token = q.Get("after")
	}
	var resume *store.ChangePos
	if token != "" {
		p, ok := decodeEventID(token)
		if !ok {
			return errorf(api.CodeInvalidArgument, "Last-Event-ID (or after) is not an event id of this stream")
		}
		resume = &p
	}
	ctx := r.Context()
	head, err := s.store.ChangeHead(ctx)
	if err != nil {
		return err
	}
	h := s.events
	// The stream's place under the caps, counted with every other
	// process's streams; 429 when full, 503 when it cannot be counted.
	lease, err := h.leases.acquire(ctx, c.Org.ID, c.Session.ID, c.User.ID)
	if err != nil {
		return err
	}
	sub, last, err := h.subscribe(c.Org.ID, head)
	if err != nil {
		h.leases.release(lease)
		return err
	}
	// The lease goes first, so that a stream no longer counted here
	// (OpenStreams) no longer counts anywhere.
	defer func() { h.leases.release(lease); h.unsubscribe(sub) }()

	rc := http.NewResponseController(w)
	// The http.Server's ReadTimeout would end the connection's background
	// read and cancel this request; a stream reads nothing after its
	// headers, so it lifts the read deadline.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // ask proxies not to buffer
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: rc, timeout: h.cfg.WriteTimeout}
	own := c.Session

	// ended reports whether the caller's own session has ended, and says so
	// on the stream.
	ended := func() bool {
		now := s.clock()
		if own.Status(now) == store.StatusActive {
			return false
		}
		if own.TerminatedAt == nil {
			// Expired by the clock, as far as this stream knows; a recent
			// use may have slid expires_at without its change arriving yet.
			fresh, err := s.store.GetSession(ctx, c.Org.ID, own.ID)
			if err == nil {
				own = fresh
				if own.Status(now) == store.StatusActive {
					return false
				}
			}
		}
		_ = st.event("session_ended", "", []byte("{}"))
		return true
	}
	// recheck authenticates the caller again, as the next request would
	// be: a stream outlives the check made when it opened, and a caller
	// whose role no longer grants the view permission must stop getting
	// the organization's changes as every list route stops answering it.
	// Such a stream just ends; reconnecting gets 403. It reports whether
	// the stream goes on; a store error keeps it (the next check retries).
	recheck := func() bool {
		p, err := s.store.Authenticate(ctx, c.tokenHash)
		if store.IsNotFound(err) {
			_ = st.event("session_ended", "", []byte("{}"))
			return false
		}
		if err != nil {
			return true
		}
		if p.Session.Status(s.clock()) != store.StatusActive {
			own = p.Session
			return !ended()
		}
		if !slices.Contains(PermissionsOf(p.User.Role), api.PermSessionsView) {
			s.log.Info("event stream ended: the caller lost the permission", "org_id", c.Org.ID, "user_id", c.User.ID, "session_id", own.ID)
			return false
		}
		return true
	}
	checked := time.Now()
	// deliver sends one change unless it was sent already.
	deliver := func(ev *liveEvent) (stop bool, err error) {
		if !last.Less(ev.pos) {
			return false, nil
		}
		data := ev.data
		if ev.session != nil && ev.session.ID == own.ID {
			own = *ev.session
			data = encodeChange(store.Change{Pos: ev.pos, Session: ev.session}, s.clock(), own.ID).data
		}
		if err := st.event(ev.kind, ev.id, data); err != nil {
			return true, err
		}
		last = ev.pos
		return ev.session != nil && ev.session.ID == own.ID && ended(), nil
	}

	// catchUp sends the changes after last from the store; the hub's
	// events up to there are skipped by deliver. It reports false when the
	// stream is over.
	catchUp := func() bool {
		for {
			changes, err := s.store.Changes(ctx, c.Org.ID, last, hubBatch)
			if err != nil {
				s.log.Warn("reading changes for a resumed stream failed", "org_id", c.Org.ID, "err", err)
				return false // the client resumes again from its last id
			}
			for _, ch := range changes {
				if stop, err := deliver(encodeChange(ch, s.clock(), "")); stop || err != nil {
					return false
				}
			}
			if len(changes) < hubBatch {
				return true
			}
		}
	}

	switch {
	case resume == nil:
		// From the present: an id-only block gives the client its resume
		// point before any change (it dispatches no event).
		if err := st.event("", encodeEventID(last), nil); err != nil {
			return nil
		}
	case resume.At.Before(s.clock().Add(-h.cfg.MaxResumeAge)) || head.Less(*resume):
		// Too old to replay (or from another database): start afresh.
		if err := st.event("reset", encodeEventID(last), []byte("{}")); err != nil {
			return nil
		}
	default:
		last = *resume
		if !catchUp() {
			return nil
		}
	}
	if ended() {
		return nil
	}

	tick := time.NewTicker(min(sessionCheckInterval, h.cfg.PingInterval))
	defer tick.Stop()
	for {
		select {
		case ev := <-sub.ch:
			if stop, err := deliver(ev); stop || err != nil {
				return nil
			}
		case <-sub.dropped:
			// This stream fell a buffer behind its hub (a burst, or a
			// slow reader). Its buffer is complete up to the drop: send
			// it, then take a fresh place at the hub and read what lies
			// between from the store, as a resumed stream would. Memory
			// stays bounded; a reader that stalls altogether is ended by
			// the write deadline instead.
			for drained := false; !drained; {
				select {
				case ev := <-sub.ch:
					if stop, err := deliver(ev); stop || err != nil {
						return nil
					}
				default:
					drained = true
				}
			}
			sub, _ = h.resubscribe(sub)
			if !catchUp() {
				return nil
			}
		case <-tick.C:
			if ended() {
				return nil
			}
			if time.Since(checked) >= h.cfg.PingInterval {
				checked = time.Now()
				if !recheck() {
					return nil
				}
			}
			if time.Since(st.wrote) >= h.cfg.PingInterval {
				if err := st.send([]byte(": ping\n\n")); err != nil {
					return nil
				}
			}
		case <-h.closing:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// CloseStreams ends every open event stream and refuses new ones. Call it
// when shutting down (http.Server.RegisterOnShutdown): Shutdown waits for
// handlers, and a stream's handler would otherwise never return.
func (s *Server) CloseStreams() { s.events.closeAll() }

// OpenStreams is the number of event streams open on this server.
func (s *Server) OpenStreams() int {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	return s.events.open
}
