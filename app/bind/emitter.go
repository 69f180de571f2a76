package bind

import (
	"context"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"sessiondesk/app/desk"
	"sessiondesk/app/syncer"
)

// Event names, domain:verb, as the frontend listens for them.
const (
	EventAuthChanged     = "auth:changed"
	EventSessionsChanged = "sessions:changed"
	EventDevicesChanged  = "devices:changed"
	EventAuditChanged    = "audit:changed"
	EventSyncStatus      = "sync:status"
)

// Emitter sends an event to the frontend. The seam keeps runtime.EventsEmit
// out of every package below this one and lets tests record events.
type Emitter interface {
	Emit(name string, data ...any)
}

// WailsEmitter emits through the Wails runtime of the window's context.
func WailsEmitter(ctx context.Context) Emitter { return wailsEmitter{ctx: ctx} }

type wailsEmitter struct{ ctx context.Context }

func (w wailsEmitter) Emit(name string, data ...any) { runtime.EventsEmit(w.ctx, name, data...) }

// Events turns Desk's notifications into frontend events. Until an Emitter is
// set (the window exists) they are dropped: the UI asks for the state when it
// loads anyway.
type Events struct {
	mu      sync.Mutex
	e       Emitter
	changes map[string]*burst // by event name
}

// changeEvery is the least time between two change events of one kind. A
// change is told at once, and the changes that follow it within this time
// once, when it is up: each event makes the page ask again for the rows in
// view and for the sessions' filter options (the overview's tallies of
// every row), and "Terminate selected" over a million sessions changed the
// sessions eight times a second (each batch of a thousand marked ended,
// then the platform's delta for it), which then spent more of the app's
// CPU on those answers than on ending the sessions (docs/bench.md).
const changeEvery = 500 * time.Millisecond

// changeEvents names the event of each domain's change.
var changeEvents = map[string]string{"sessions": EventSessionsChanged, "devices": EventDevicesChanged, "audit": EventAuditChanged}

// burst is one kind of change event's last emission and whether one is
// due at the end of the current changeEvery.
type burst struct {
	last time.Time
	due  bool
}

var _ desk.Events = (*Events)(nil)

// SetEmitter connects the events to the frontend.
func (ev *Events) SetEmitter(e Emitter) {
	ev.mu.Lock()
	ev.e = e
	ev.mu.Unlock()
}

func (ev *Events) emit(name string, data ...any) {
	ev.mu.Lock()
	e := ev.e
	ev.mu.Unlock()
	if e != nil {
		e.Emit(name, data...)
	}
}

// AuthChanged implements desk.Events.
func (ev *Events) AuthChanged(st desk.AuthState) { ev.emit(EventAuthChanged, authState(st)) }

// Changed implements desk.Events, at most once every changeEvery for each
// domain, the last change always told.
func (ev *Events) Changed(domain string) {
	name, ok := changeEvents[domain]
	if !ok {
		return
	}
	ev.mu.Lock()
	if ev.changes == nil {
		ev.changes = map[string]*burst{}
	}
	b := ev.changes[name]
	if b == nil {
		b = &burst{}
		ev.changes[name] = b
	}
	if b.due { // the event at the end of the wait tells this change too
		ev.mu.Unlock()
		return
	}
	wait := changeEvery - time.Since(b.last)
	if wait <= 0 {
		b.last = time.Now()
		ev.mu.Unlock()
		ev.emit(name)
		return
	}
	b.due = true
	ev.mu.Unlock()
	time.AfterFunc(wait, func() {
		ev.mu.Lock()
		b.due, b.last = false, time.Now()
		ev.mu.Unlock()
		ev.emit(name)
	})
}

// SyncStatus implements desk.Events.
func (ev *Events) SyncStatus(st syncer.Status) { ev.emit(EventSyncStatus, SyncStatus(st)) }
