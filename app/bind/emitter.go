package bind

import (
	"context"
	"sync"

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
	mu sync.Mutex
	e  Emitter
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

// Changed implements desk.Events.
func (ev *Events) Changed(domain string) {
	switch domain {
	case "sessions":
		ev.emit(EventSessionsChanged)
	case "devices":
		ev.emit(EventDevicesChanged)
	case "audit":
		ev.emit(EventAuditChanged)
	}
}

// SyncStatus implements desk.Events.
func (ev *Events) SyncStatus(st syncer.Status) { ev.emit(EventSyncStatus, SyncStatus(st)) }
