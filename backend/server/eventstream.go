package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// One live stream: its SSE writer and the loop that feeds it from its hub
// (eventhub.go) and, when resuming or after falling behind, from the store.

// sessionCheckInterval is how often a stream judges whether its own session
// has expired; expiry is not a write, so no change announces it.
const sessionCheckInterval = 250 * time.Millisecond

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

// openStream starts the SSE response.
func openStream(w http.ResponseWriter, timeout time.Duration) (*stream, error) {
	rc := http.NewResponseController(w)
	// The http.Server's ReadTimeout would end the connection's background
	// read and cancel this request; a stream reads nothing after its
	// headers, so it lifts the read deadline.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // ask proxies not to buffer
	w.WriteHeader(http.StatusOK)
	return &stream{w: w, rc: rc, timeout: timeout}, nil
}

// liveStream is one open stream of a caller: what it has sent and where it
// is attached. Its methods run on the request's goroutine only.
type liveStream struct {
	s       *Server
	h       *hub
	ctx     context.Context
	c       *caller
	st      *stream
	sub     *subscriber     // its place at the hub; replaced when dropped
	last    store.ChangePos // the last change sent (or the starting point)
	own     store.Session   // the caller's session, as last seen
	checked time.Time       // when recheck last ran
}

// start sends what comes before the live changes: the resume point of a
// fresh stream, a reset for a token too old, or the changes after a
// resumed stream's token. It reports whether the stream goes on.
func (ls *liveStream) start(resume *store.ChangePos, head store.ChangePos) bool {
	switch {
	case resume == nil:
		// From the present: an id-only block gives the client its resume
		// point before any change (it dispatches no event).
		return ls.st.event("", encodeEventID(ls.last), nil) == nil
	case resume.At.Before(ls.s.clock().Add(-ls.h.cfg.MaxResumeAge)) || head.Less(*resume):
		// Too old to replay (or from another database): start afresh.
		return ls.st.event("reset", encodeEventID(ls.last), []byte("{}")) == nil
	default:
		ls.last = *resume
		return ls.catchUp()
	}
}

// loop feeds the stream from its hub until the stream ends.
func (ls *liveStream) loop() {
	tick := time.NewTicker(min(sessionCheckInterval, ls.h.cfg.PingInterval))
	defer tick.Stop()
	for {
		select {
		case ev := <-ls.sub.ch:
			if stop, err := ls.deliver(ev); stop || err != nil {
				return
			}
		case <-ls.sub.dropped:
			if !ls.reattach() {
				return
			}
		case <-tick.C:
			if !ls.tick() {
				return
			}
		case <-ls.h.closing:
			return
		case <-ls.ctx.Done():
			return
		}
	}
}

// reattach follows a drop: this stream fell a buffer behind its hub (a
// burst, or a slow reader). Its buffer is complete up to the drop: send
// it, then take a fresh place at the hub and read what lies between from
// the store, as a resumed stream would. Memory stays bounded; a reader
// that stalls altogether is ended by the write deadline instead. It
// reports whether the stream goes on.
func (ls *liveStream) reattach() bool {
	for drained := false; !drained; {
		select {
		case ev := <-ls.sub.ch:
			if stop, err := ls.deliver(ev); stop || err != nil {
				return false
			}
		default:
			drained = true
		}
	}
	ls.sub, _ = ls.h.resubscribe(ls.sub)
	return ls.catchUp()
}

// tick checks the caller's session, authenticates it again every
// PingInterval and pings a silent stream. It reports whether the stream
// goes on.
func (ls *liveStream) tick() bool {
	if ls.ended() {
		return false
	}
	if time.Since(ls.checked) >= ls.h.cfg.PingInterval {
		ls.checked = time.Now()
		if !ls.recheck() {
			return false
		}
	}
	if time.Since(ls.st.wrote) >= ls.h.cfg.PingInterval {
		if err := ls.st.send([]byte(": ping\n\n")); err != nil {
			return false
		}
	}
	return true
}

// ended reports whether the caller's own session has ended, and says so
// on the stream.
func (ls *liveStream) ended() bool {
	now := ls.s.clock()
	if ls.own.Status(now) == store.StatusActive {
		return false
	}
	if ls.own.TerminatedAt == nil {
		// Expired by the clock, as far as this stream knows; a recent
		// use may have slid expires_at without its change arriving yet.
		fresh, err := ls.s.store.GetSession(ls.ctx, ls.c.Org.ID, ls.own.ID)
		if err == nil {
			ls.own = fresh
			if ls.own.Status(now) == store.StatusActive {
				return false
			}
		}
	}
	_ = ls.st.event("session_ended", "", []byte("{}"))
	return true
}

// recheck authenticates the caller again, as the next request would be: a
// stream outlives the check made when it opened, and a caller whose role
// no longer grants the view permission must stop getting the
// organization's changes as every list route stops answering it. Such a
// stream just ends; reconnecting gets 403. It reports whether the stream
// goes on; a store error keeps it (the next check retries).
func (ls *liveStream) recheck() bool {
	p, err := ls.s.store.Authenticate(ls.ctx, ls.c.tokenHash)
	if store.IsNotFound(err) {
		_ = ls.st.event("session_ended", "", []byte("{}"))
		return false
	}
	if err != nil {
		return true
	}
	if p.Session.Status(ls.s.clock()) != store.StatusActive {
		ls.own = p.Session
		return !ls.ended()
	}
	if !slices.Contains(PermissionsOf(p.User.Role), api.PermSessionsView) {
		ls.s.log.Info("event stream ended: the caller lost the permission", "org_id", ls.c.Org.ID, "user_id", ls.c.User.ID, "session_id", ls.own.ID)
		return false
	}
	return true
}

// deliver sends one change unless it was sent already.
func (ls *liveStream) deliver(ev *liveEvent) (stop bool, err error) {
	if !ls.last.Less(ev.pos) {
		return false, nil
	}
	data := ev.data
	if ev.session != nil && ev.session.ID == ls.own.ID {
		ls.own = *ev.session
		data = encodeChange(store.Change{Pos: ev.pos, Session: ev.session}, ls.s.clock(), ls.own.ID).data
	}
	if err := ls.st.event(ev.kind, ev.id, data); err != nil {
		return true, err
	}
	ls.last = ev.pos
	return ev.session != nil && ev.session.ID == ls.own.ID && ls.ended(), nil
}

// catchUp sends the changes after last from the store; the hub's events
// up to there are skipped by deliver. It reports false when the stream is
// over.
func (ls *liveStream) catchUp() bool {
	for {
		changes, err := ls.s.store.Changes(ls.ctx, ls.c.Org.ID, ls.last, hubBatch)
		if err != nil {
			ls.s.log.Warn("reading changes for a resumed stream failed", "org_id", ls.c.Org.ID, "err", err)
			return false // the client resumes again from its last id
		}
		for _, ch := range changes {
			if stop, err := ls.deliver(encodeChange(ch, ls.s.clock(), "")); stop || err != nil {
				return false
			}
		}
		if len(changes) < hubBatch {
			return true
		}
	}
}
