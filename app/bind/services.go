package bind

import (
	"context"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
)

// callTimeout bounds a bound call that talks to the platform: the frontend
// waits on it.
const callTimeout = 60 * time.Second

// base holds what every bound service needs: the Desk and the window's
// context (from Start), which outlives each call.
type base struct {
	d   *desk.Desk
	ctx context.Context
}

// start is called once the window exists (see Start).
func (b *base) start(ctx context.Context) { b.ctx = ctx }

// window is the window's context (Background before the window exists),
// without a time limit: for the actions that run one request after another
// and must not be cut by one call's budget (each request has its own).
func (b *base) window() context.Context {
	if b.ctx == nil {
		return context.Background()
	}
	return b.ctx
}

func (b *base) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.window(), callTimeout)
}

// AuthService signs in and out and tells who is signed in.
type AuthService struct {
	base
	ready <-chan struct{}
}

// NewAuthService binds d's sign-in.
func NewAuthService(d *desk.Desk) *AuthService { return &AuthService{base: base{d: d}} }

// AwaitStartup makes s.State wait (up to startupWait) until ready is closed:
// the app's startup (keychain probe, resuming or demo sign-in) runs beside
// the window, and the UI's first question should get the settled answer
// rather than a transient "signed out". It is a function, not a method, so
// that Wails does not bind it to the frontend.
func AwaitStartup(s *AuthService, ready <-chan struct{}) { s.ready = ready }

// startupWait bounds how long State waits for the startup.
const startupWait = 30 * time.Second

// State returns who is signed in.
func (s *AuthService) State() (AuthState, error) {
	if s.ready != nil {
		select {
		case <-s.ready:
		case <-time.After(startupWait):
		}
	}
	return authState(s.d.State()), nil
}

// Profiles lists the known accounts, last used first.
func (s *AuthService) Profiles() ([]Profile, error) {
	ps, err := s.d.Profiles()
	if err != nil {
		return nil, uiError(err)
	}
	out := make([]Profile, 0, len(ps))
	for _, p := range ps {
		out = append(out, toProfile(p))
	}
	return out, nil
}

// SignIn signs in. A "mfa_required" error asks the UI for the TOTP step; the
// form then resubmits with totp (and trustDevice).
func (s *AuthService) SignIn(req SignInRequest) (AuthState, error) {
	ctx, cancel := s.call()
	defer cancel()
	st, err := s.d.SignIn(ctx, desk.SignInRequest{
		ServerURL: req.ServerURL, Org: req.Org, Email: req.Email, Password: req.Password,
		TOTP: req.TOTP, TrustDevice: req.TrustDevice, CAFile: req.CAFile, Provider: req.Provider, APIKey: req.APIKey,
	})
	if err != nil {
		return authState(st), uiError(err)
	}
	return authState(st), nil
}

// SignOut ends the session; purgeCache also deletes the offline cache.
func (s *AuthService) SignOut(purgeCache bool) error {
	ctx, cancel := s.call()
	defer cancel()
	return uiError(s.d.SignOut(ctx, purgeCache))
}

// DismissNotice clears the cache-loss notice (AuthState.notice) once read.
func (s *AuthService) DismissNotice() error {
	s.d.DismissNotice()
	return nil
}

// SessionsService lists and ends sessions.
type SessionsService struct {
	base
	exporter
	progress Emitter // "Terminate selected"/"Terminate all" progress; see SetProgressEmitter
}

// NewSessionsService binds the sessions list. dialogs may be nil (then
// ExportCSV uses the Wails save dialog).
func NewSessionsService(d *desk.Desk, dialogs Dialogs) *SessionsService {
	return &SessionsService{base: base{d: d}, exporter: exporter{dialogs: dialogs, now: time.Now}}
}

// start is called once the window exists (see Start).
func (s *SessionsService) start(ctx context.Context) {
	s.base.start(ctx)
	s.exporter.start(ctx)
	if s.progress == nil {
		s.progress = WailsEmitter(ctx)
	}
}

// List returns the requested window of the cached sessions.
func (s *SessionsService) List(q SessionQuery) (SessionPage, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.SessionPage, error) { return w.ListSessions(desk.SessionQuery(q)) }, func(p desk.SessionPage) SessionPage { return SessionPage(p) })
}

// Terminate ends one session.
func (s *SessionsService) Terminate(id string, reason string) (domain.Session, error) {
	return acting(s.base, func(ctx context.Context, w *desk.Workspace) (domain.Session, error) {
		return w.Terminate(ctx, id, reason)
	})
}

// TerminateAll ends every session of the organization, emitting
// EventTerminateProgress as they end.
func (s *SessionsService) TerminateAll(keepCurrent bool, reason string) (TerminateAllResult, error) {
	// No callTimeout: on Kratos the sessions end one request each, which for
	// a large organization outlasts one call's budget.
	ctx := s.window()
	w, err := s.d.Workspace()
	if err != nil {
		return TerminateAllResult{}, uiError(err)
	}
	out, err := w.TerminateAll(ctx, keepCurrent, reason, s.emitProgress)
	if err != nil {
		return TerminateAllResult{}, uiError(err)
	}
	return TerminateAllResult{Terminated: out.Terminated}, nil
}

// ExportCSV writes every session matching q (not only the window) to a file
// the user picks; it returns the path, or "" when the dialog was cancelled.
func (s *SessionsService) ExportCSV(q SessionQuery) (string, error) {
	return exportRows(s.base, s.exporter, "Export sessions", "sessions-", sessionsCSV, func(w *desk.Workspace, fn func(domain.Session) error) error {
		return w.EachSession(desk.SessionQuery(q), fn)
	})
}

// DevicesService lists devices and revokes trust.
type DevicesService struct {
	base
	exporter
}

// NewDevicesService binds the devices list.
func NewDevicesService(d *desk.Desk, dialogs Dialogs) *DevicesService {
	return &DevicesService{base: base{d: d}, exporter: exporter{dialogs: dialogs, now: time.Now}}
}

// start is called once the window exists (see Start).
func (s *DevicesService) start(ctx context.Context) {
	s.base.start(ctx)
	s.exporter.start(ctx)
}

// List returns the requested window of the cached devices.
func (s *DevicesService) List(q DeviceQuery) (DevicePage, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.DevicePage, error) { return w.ListDevices(desk.DeviceQuery(q)) }, func(p desk.DevicePage) DevicePage { return DevicePage(p) })
}

// RevokeTrust takes a device's trust away.
func (s *DevicesService) RevokeTrust(id string, reason string) (domain.Device, error) {
	return acting(s.base, func(ctx context.Context, w *desk.Workspace) (domain.Device, error) {
		return w.RevokeTrust(ctx, id, reason)
	})
}

// ExportCSV writes every device matching q to a file the user picks.
func (s *DevicesService) ExportCSV(q DeviceQuery) (string, error) {
	return exportRows(s.base, s.exporter, "Export devices", "devices-", devicesCSV, func(w *desk.Workspace, fn func(domain.Device) error) error {
		return w.EachDevice(desk.DeviceQuery(q), fn)
	})
}

// AuditService lists the cached audit log.
type AuditService struct {
	base
	exporter
}

// NewAuditService binds the audit log. Its CSV export uses the Wails save
// dialog; tests set another with SetAuditDialogs.
func NewAuditService(d *desk.Desk) *AuditService {
	return &AuditService{base: base{d: d}, exporter: exporter{now: time.Now}}
}

// SetAuditDialogs replaces the audit export's save dialog (tests). A
// function, not a method, so that Wails does not bind it.
func SetAuditDialogs(s *AuditService, d Dialogs) { s.dialogs = d }

// start is called once the window exists (see Start).
func (s *AuditService) start(ctx context.Context) {
	s.base.start(ctx)
	s.exporter.start(ctx)
}

// List returns a window of the audit log, newest first.
func (s *AuditService) List(offset int, limit int) (AuditPage, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.AuditPage, error) { return w.ListAudit(offset, limit) }, func(p desk.AuditPage) AuditPage { return AuditPage(p) })
}

// SyncService reports and starts syncs.
type SyncService struct{ base }

// NewSyncService binds the sync status.
func NewSyncService(d *desk.Desk) *SyncService { return &SyncService{base{d: d}} }

// Status returns the sync state (signed out: offline, never synced).
func (s *SyncService) Status() (SyncStatus, error) {
	w, err := s.d.Workspace()
	if err != nil {
		return SyncStatus{}, nil
	}
	return toSyncStatus(w.SyncStatus()), nil
}

// SyncNow syncs at once. Being offline is reported in the status, not as an
// error.
func (s *SyncService) SyncNow() (SyncStatus, error) {
	ctx, cancel := s.call()
	defer cancel()
	w, err := s.d.Workspace()
	if err != nil {
		return SyncStatus{}, uiError(err)
	}
	st, err := w.SyncNow(ctx)
	return toSyncStatus(st), uiError(err)
}

// withWorkspace runs fn on the open workspace; a failure of either (no
// workspace: signed out) reaches the UI as a UIError, with T's zero value.
func withWorkspace[T any](d *desk.Desk, fn func(*desk.Workspace) (T, error)) (T, error) {
	var zero T
	w, err := d.Workspace()
	if err != nil {
		return zero, uiError(err)
	}
	out, err := fn(w)
	if err != nil {
		return zero, uiError(err)
	}
	return out, nil
}

// fromWorkspace is withWorkspace for a desk result the UI receives as its
// own type (conv).
func fromWorkspace[In, Out any](d *desk.Desk, fn func(*desk.Workspace) (In, error), conv func(In) Out) (Out, error) {
	return withWorkspace(d, func(w *desk.Workspace) (Out, error) {
		in, err := fn(w)
		if err != nil {
			var zero Out
			return zero, err
		}
		return conv(in), nil
	})
}

// exporter saves a list as a CSV file through a save dialog (Wails', unless
// a test gave one), named after today.
type exporter struct {
	dialogs Dialogs
	now     func() time.Time
}

// start is called once the window exists (see Start).
func (e *exporter) start(ctx context.Context) {
	if e.dialogs == nil {
		e.dialogs = WailsDialogs(ctx)
	}
}

// exportRows writes the rows each walks, as layout lays them out, to a file
// the user picks (title: the dialog's, prefix: the file name's); it returns
// the path, or "" when the dialog was cancelled.
func exportRows[T any](b base, e exporter, title, prefix string, layout csvLayout[T], each func(*desk.Workspace, func(T) error) error) (string, error) {
	return withWorkspace(b.d, func(w *desk.Workspace) (string, error) {
		return exportCSV(e.dialogs, title, prefix+e.now().Format("2006-01-02")+".csv", layout, func(fn func(T) error) error { return each(w, fn) })
	})
}

// acting is withWorkspace for an action, given one call's time budget.
func acting[T any](b base, fn func(context.Context, *desk.Workspace) (T, error)) (T, error) {
	ctx, cancel := b.call()
	defer cancel()
	return withWorkspace(b.d, func(w *desk.Workspace) (T, error) { return fn(ctx, w) })
}
