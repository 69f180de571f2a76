package desk

// The Workspace: one signed-in account's lists, actions and investigation.
// Desk opens and closes it (lifecycle.go) and keeps what outlives it
// (sign-in, keychain, profiles, settings, notices).

import (
	"context"
	"log/slog"
	"sync"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider"
	"sessiondesk/app/syncer"
)

// Workspace is everything that exists while one profile is signed in: its
// provider, its offline cache, the in-memory indexes over it and the sync
// that keeps them current. Its methods answer the lists (from the indexes,
// so they work offline), take the actions (through the provider) and serve
// the investigation. It is safe for concurrent use. Get the open one from
// Desk.Workspace; once its account signs out or its session ends, it is
// closed and Desk.Workspace answers with another one or none.
type Workspace struct {
	prof     profile.Profile
	prov     provider.Provider
	store    *cache.Store
	sync     *syncer.Syncer
	sessions *index.Table[domain.Session]
	devices  *index.Table[domain.Device]
	audit    *index.Table[domain.AuditEvent]
	log      *slog.Logger
	// ended tells Desk that the platform rejected the token (or said the
	// session ended): Desk forgets the token and closes the workspace.
	ended    func()
	cancel   context.CancelFunc
	done     chan struct{}
	liveDone chan struct{} // the event stream's goroutine ended
	endOnce  sync.Once     // ended() acts once: the stream, a sync and an action can all learn it

	mu      sync.Mutex
	me      domain.Me
	meStale bool // opened or went offline: ask /me again once back online

	cacheMarked bool // guarded by Desk.mu; see markCacheWritten
}

// Me is who is signed in (the zero Me when not known yet: an offline
// start without a cached identity).
func (w *Workspace) Me() domain.Me {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.me
}

// Capabilities is what the signed-in provider can do; the UI offers an
// action only when it can and the permission is there.
func (w *Workspace) Capabilities() domain.Capabilities { return w.prov.Capabilities() }

// end reacts once to the session's end, whoever learns of it first.
func (w *Workspace) end() { w.endOnce.Do(w.ended) }

// Workspace returns the open workspace or a signed-out error.
func (d *Desk) Workspace() (*Workspace, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ws == nil {
		return nil, errSignInFirst()
	}
	return d.ws, nil
}

// fail reacts to an action's failure (signed out, offline, a sync to see
// what an answer that broke off hid) and says what went wrong.
func (w *Workspace) fail(err error) error { return w.failAs(err, wholeAction) }

// failAs is fail for an outcome other than the whole action's.
func (w *Workspace) failAs(err error, o outcome) error {
	if domain.IsUnauthenticated(err) {
		w.end()
	}
	if domain.IsUnreachable(err) && !domain.Answered(err) {
		w.sync.SetOnline(false, syncWords{kind: w.prof.Provider}.Problem(syncer.Unreachable, 0, err))
	}
	if domain.Answered(err) {
		w.sync.Trigger() // an answer that broke off may hide a change
	}
	return actionErrorFor(err, o, w.prof.Provider)
}
