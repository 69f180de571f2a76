package server

import (
	"encoding/base64"
	"encoding/json"

	"net/http"

	"strconv"
	"strings"

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
	orDefault(&c.MaxPerSession, d.MaxPerSession)
	orDefault(&c.MaxPerUser, d.MaxPerUser)
	orDefault(&c.MaxPerOrg, d.MaxPerOrg)
	orDefault(&c.LeaseTTL, d.LeaseTTL)
	orDefault(&c.PingInterval, d.PingInterval)
	orDefault(&c.PollInterval, d.PollInterval)
	orDefault(&c.MaxResumeAge, d.MaxResumeAge)
	orDefault(&c.Buffer, d.Buffer)
	orDefault(&c.WriteTimeout, d.WriteTimeout)
	if c.Notifier == nil {
		c.Notifier = store.NewLocalNotifier()
	}
	return c
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

// streamEvents serves GET /api/v1/events: it takes the stream's place under
// the caps and at its organization's hub, then hands the response to a
// liveStream (eventstream.go) until the stream ends.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	resume, err := resumePoint(r)
	if err != nil {
		return err
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
	ls := &liveStream{s: s, h: h, ctx: ctx, c: c, sub: sub, last: last, own: c.Session, checked: time.Now()}
	// The lease goes first, so that a stream no longer counted here
	// (OpenStreams) no longer counts anywhere. ls.sub, not sub: a dropped
	// stream re-attaches under a new subscriber.
	defer func() { h.leases.release(lease); h.unsubscribe(ls.sub) }()

	if ls.st, err = openStream(w, h.cfg.WriteTimeout); err != nil {
		return err
	}
	if ls.start(resume, head) && !ls.ended() {
		ls.loop()
	}
	return nil
}

// resumePoint reads the resume token of a request: the Last-Event-ID
// header, else the after parameter; nil when there is none.
func resumePoint(r *http.Request) (*store.ChangePos, error) {
	q, err := query(r)
	if err != nil {
		return nil, err
	}
	token := r.Header.Get("Last-Event-ID")
	if token == "" {
		token = q.Get("after")
	}
	if token == "" {
		return nil, nil
	}
	p, ok := decodeEventID(token)
	if !ok {
		return nil, errorf(api.CodeInvalidArgument, "Last-Event-ID (or after) is not an event id of this stream")
	}
	return &p, nil
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
