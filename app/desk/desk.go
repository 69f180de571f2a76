// Package desk is the app's state below the UI: which profile is signed in,
// its platform client, its open offline cache and indexes, and its running
// sync. The bound services of package bind are thin adapters over it; the
// package itself knows nothing of Wails, so it is tested without a window.
//
// Credentials. A profile's token, device id and trusted-device secret live
// in the keychain only.
// When the OS keychain is unavailable, Desk says so (AuthState), keeps the
// secrets in memory for this run, and keeps the cache in memory too, because
// there is nowhere safe to keep the key that seals it.
//
// Ended sessions. Whenever the platform answers 401 to the stored token —
// during a sync, an action, or at start — the token is deleted from the
// keychain, the workspace is closed and listeners hear auth:changed with
// signedIn=false and a message asking to sign in again.
//
// Offline. Lists always answer from the in-memory indexes (filled from the
// cache), flagged offline when the last contact with the platform failed.
// Actions need the platform: when it cannot be reached they fail with code
// "offline" and nothing changes locally.
package desk

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/index"
	"sessiondesk/app/keychain"
	"sessiondesk/app/live"
	"sessiondesk/app/platform"
	"sessiondesk/app/profile"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/api"
)

// Error codes Desk produces itself (the platform's codes pass through).
const (
	CodeOffline    = "offline"
	CodeNoKeychain = "no_keychain"
	// CodeUntrustedCertificate: the platform's TLS certificate was refused.
	CodeUntrustedCertificate = "untrusted_certificate"
	CodeSignedOut            = api.CodeUnauthenticated
)

// Error is a failure meant for the user: a code the UI branches on, a
// message, and the sign-in form field it concerns, if any.
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Events is how Desk tells the UI what happened. Implementations must not
// block.
type Events interface {
	AuthChanged(AuthState)
	Changed(domain string) // "sessions", "devices", "audit"
	SyncStatus(syncer.Status)
}

// AuthState is who is signed in and whether secrets are safe.
type AuthState struct {
	SignedIn          bool
	Demo              bool
	Profile           *profile.Profile
	Me                *api.Me
	KeychainAvailable bool
	KeychainMessage   string
	// Message explains the last change to the user (e.g. "your session was
	// ended"); empty when there is nothing to say.
	Message string
	// Notice tells the signed-in user that cached data was lost and why
	// (a damaged file, a cache key gone from the keychain). It stays until
	// DismissNotice; the sync status never overwrites it.
	Notice string
}

// Config wires a Desk.
type Config struct {
	ConfigDir string // profiles.json
	CacheDir  string // <profile>.db
	// Keychain is the OS keychain; KeychainProbe tells whether it answers.
	Keychain      *keychain.Keychain
	KeychainProbe func(context.Context) error
	Notifier      syncer.Notifier
	Events        Events
	Client        platform.Options
	SyncInterval  time.Duration
	SyncPageSize  int
	Retention     time.Duration
	Clock         func() time.Time
	Log           *slog.Logger
	// DeviceName and DevicePlatform describe this computer at sign-in.
	DeviceName     string
	DevicePlatform string
}

// Desk is the app's signed-in state. It is safe for concurrent use.
type Desk struct {
	cfg      Config
	profiles *profile.Store

	// life serializes opening and closing workspaces, so that two sign-ins
	// (or a sign-in and a resume) at once cannot both install one and leak
	// the other. Held across open and close, never while calling the
	// platform; taken before mu, never after.
	life sync.Mutex

	mu        sync.Mutex
	ctx       context.Context // from Start; background work ends with it
	demoURL   string          // the embedded platform's address in demo mode
	kc        *keychain.Keychain
	kcOK      bool
	kcMessage string
	message   string
	notice    string // see AuthState.Notice
	ws        *workspace
	prefs     prefs // see settings.go
}

// workspace is everything that exists while one profile is signed in.
type workspace struct {
	prof     profile.Profile
	client   *platform.Client
	store    *cache.Store
	sync     *syncer.Syncer
	sessions *index.Table[api.Session]
	devices  *index.Table[api.Device]
	audit    *index.Table[api.AuditEvent]
	cancel   context.CancelFunc
	done     chan struct{}
	liveDone chan struct{} // the event stream's goroutine ended
	endOnce  sync.Once     // ended() acts once: the stream, a sync and an action can all learn it

	mu      sync.Mutex
	me      api.Me
	meStale bool // opened or went offline: ask /me again once back online
}

func (w *workspace) Me() api.Me {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.me
}

// New returns a Desk. Call Start before anything else.
func New(cfg Config) (*Desk, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Keychain == nil {
		cfg.Keychain = keychain.OS()
	}
	if cfg.KeychainProbe == nil {
		cfg.KeychainProbe = keychain.Probe
	}
	if cfg.DeviceName == "" {
		host, _ := os.Hostname()
		cfg.DeviceName = strings.TrimSpace("Sessions Desk on " + host)
	}
	if cfg.DevicePlatform == "" {
		cfg.DevicePlatform = platformName()
	}
	if cfg.Client.Log == nil {
		cfg.Client.Log = cfg.Log
	}
	if cfg.Client.Clock == nil {
		cfg.Client.Clock = cfg.Clock
	}
	ps, err := profile.Open(cfg.ConfigDir)
	if err != nil {
		return nil, err
	}
	pr, err := openPrefs(cfg)
	if err != nil {
		return nil, err
	}
	d := &Desk{cfg: cfg, profiles: ps, ctx: context.Background(), kc: keychain.Memory(), prefs: pr}
	if cfg.Notifier != nil {
		d.cfg.Notifier = gatedNotifier{inner: cfg.Notifier, d: d}
	}
	return d, nil
}

func platformName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	case "linux":
		return "Linux"
	}
	return runtime.GOOS
}

// Start probes the keychain and, when the last used profile has a stored
// token, signs it back in (offline from the cache when the platform cannot
// be reached). ctx bounds all background work of the Desk.
func (d *Desk) Start(ctx context.Context) {
	probeCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := d.cfg.KeychainProbe(probeCtx)
	cancel()
	d.mu.Lock()
	d.ctx = ctx
	if err != nil {
		d.kc, d.kcOK = keychain.Memory(), false
		d.kcMessage = "No keychain is available (" + err.Error() + "). Your sign-in is kept in memory for this run only, and the offline cache is not saved to disk."
		d.cfg.Log.Warn("keychain unavailable; secrets and cache kept in memory for this run", "err", err)
	} else {
		d.kc, d.kcOK, d.kcMessage = d.cfg.Keychain, true, ""
	}
	d.mu.Unlock()

	if err := d.Resume(ctx); err != nil {
		d.cfg.Log.Info("no previous session resumed", "err", err)
	}
	d.emitAuth()
}

// SetDemoServer tells Desk the embedded platform's current address. Demo
// profiles follow it (its port may change between runs); without it they are
// not resumed.
func (d *Desk) SetDemoServer(url string) {
	d.mu.Lock()
	d.demoURL = strings.TrimRight(url, "/")
	d.mu.Unlock()
}

// Resume signs the last used profile back in with its stored token.
func (d *Desk) Resume(ctx context.Context) error {
	p, ok, err := d.profiles.Last()
	if err != nil || !ok {
		return err
	}
	_, err = d.ResumeProfile(ctx, p)
	return err
}

// DemoProfile is the profile of the demo account on the embedded platform.
func (d *Desk) DemoProfile(org, email string) profile.Profile {
	d.mu.Lock()
	defer d.mu.Unlock()
	return profile.New(d.demoURL, org, email, true)
}

// ResumeProfile opens p with its stored token, if there is one. It reports
// whether p is signed in afterwards. A token the platform rejects is
// deleted.
func (d *Desk) ResumeProfile(ctx context.Context, p profile.Profile) (bool, error) {
	if p.Demo {
		d.mu.Lock()
		p.ServerURL = d.demoURL
		d.mu.Unlock()
		if p.ServerURL == "" {
			return false, nil
		}
	}
	if d.SignedInAs(p.ID) {
		return true, nil
	}
	kc := d.keychain()
	token, err := kc.Token(p.ID)
	if errors.Is(err, keychain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	client, err := platform.New(p.ServerURL, d.clientOptions(p.CAFile))
	if err != nil {
		return false, err
	}
	client = client.WithToken(token)
	opened := false
	defer func() {
		if !opened {
			client.CloseIdleConnections()
		}
	}()
	me, err := client.Me(ctx)
	switch {
	case err == nil:
		if err := d.open(ctx, p, client, &me, false); err != nil {
			return false, err
		}
		opened = true
		if err := d.profiles.Save(p); err != nil { // the demo's address may have changed
			d.cfg.Log.Warn("profile not saved", "err", err)
		}
		return true, nil
	case platform.IsUnreachable(err):
		// Review offline from the cache; the sync reconnects by itself.
		if err := d.open(ctx, p, client, nil, true); err != nil {
			return false, err
		}
		opened = true
		return true, nil
	case platform.IsUnauthenticated(err):
		_ = kc.DeleteToken(p.ID)
		d.setMessage("Your session has ended. Sign in again.")
		return false, nil
	default:
		return false, err
	}
}

func (d *Desk) keychain() *keychain.Keychain {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.kc
}

func (d *Desk) setMessage(m string) {
	d.mu.Lock()
	d.message = m
	d.mu.Unlock()
}

// setNotice records a cache loss for the user (see AuthState.Notice); a
// second loss before the first was dismissed is told too.
func (d *Desk) setNotice(n string) {
	d.mu.Lock()
	if d.notice != "" && d.notice != n {
		n = d.notice + " " + n
	}
	d.notice = n
	d.mu.Unlock()
}

// DismissNotice clears the cache-loss notice once the user has read it.
func (d *Desk) DismissNotice() {
	d.mu.Lock()
	d.notice = ""
	d.mu.Unlock()
	d.emitAuth()
}

// SignedInAs reports whether profile id is the open one.
func (d *Desk) SignedInAs(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ws != nil && d.ws.prof.ID == id
}

// State returns the current AuthState.
func (d *Desk) State() AuthState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := AuthState{KeychainAvailable: d.kcOK, KeychainMessage: d.kcMessage, Message: d.message, Notice: d.notice}
	if w := d.ws; w != nil {
		p := w.prof
		me := w.Me()
		st.SignedIn, st.Demo, st.Profile = true, p.Demo, &p
		if me.User.ID != "" {
			st.Me = &me
		}
	}
	return st
}

func (d *Desk) emitAuth() {
	if d.cfg.Events != nil {
		d.cfg.Events.AuthChanged(d.State())
	}
}

// Profiles lists the known profiles, last used first.
func (d *Desk) Profiles() ([]profile.Profile, error) { return d.profiles.List() }

// SignInRequest is what the sign-in form submits.
type SignInRequest struct {
	ServerURL   string
	Org         string
	Email       string
	Password    string
	TOTP        string
	TrustDevice bool
	Demo        bool
	// CAFile is the PEM file of an organization's own certificate
	// authority, trusted besides the system's ("" for Config.Client's).
	CAFile string
}

// clientOptions are the platform client's options for a profile's CA file.
func (d *Desk) clientOptions(caFile string) platform.Options {
	opts := d.cfg.Client
	if caFile = strings.TrimSpace(caFile); caFile != "" {
		opts.CAFile = caFile
	}
	return opts
}

// SignIn signs in through the platform, stores the token and device id in the
// keychain, saves the profile and opens its workspace.
func (d *Desk) SignIn(ctx context.Context, req SignInRequest) (AuthState, error) {
	req.Org, req.Email, req.TOTP = strings.TrimSpace(req.Org), strings.TrimSpace(req.Email), strings.TrimSpace(req.TOTP)
	switch {
	case strings.TrimSpace(req.ServerURL) == "":
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "server", Message: "Enter the platform's address."}
	case req.Org == "":
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "org", Message: "Enter your organization."}
	case req.Email == "":
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "email", Message: "Enter your e-mail address."}
	case req.Password == "":
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "password", Message: "Enter your password."}
	}
	opts := d.clientOptions(req.CAFile)
	if _, err := platform.ParseServerURL(req.ServerURL); err != nil {
		msg := "The server address must look like https://host:port."
		var pe *platform.Error
		if errors.As(err, &pe) && pe.Message != "" {
			msg = pe.Message // e.g. why plain http is refused
		}
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "server", Message: msg, Err: err}
	}
	client, err := platform.New(req.ServerURL, opts)
	if err != nil { // the address is fine, so it is the CA file
		msg := "The CA file cannot be used."
		var pe *platform.Error
		if errors.As(err, &pe) && pe.Message != "" {
			msg = pe.Message
		}
		return d.State(), &Error{Code: api.CodeInvalidArgument, Field: "caFile", Message: msg, Err: err}
	}
	opened := false
	defer func() {
		if !opened { // a failed sign-in leaves no connections behind
			client.CloseIdleConnections()
		}
	}()
	d.mu.Lock()
	demo := req.Demo || (d.demoURL != "" && client.BaseURL() == d.demoURL)
	d.mu.Unlock()
	p := profile.New(client.BaseURL(), req.Org, req.Email, demo)
	p.CAFile = opts.CAFile
	kc := d.keychain()
	deviceID, err := kc.DeviceID(p.ID)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		d.cfg.Log.Warn("device id unreadable; signing in as a new device", "err", err)
	}
	// A trusted computer proves it with the secret the platform gave it
	// when it was trusted; the id alone is public.
	var deviceSecret string
	if deviceID != "" {
		deviceSecret, err = kc.DeviceSecret(p.ID)
		if err != nil && !errors.Is(err, keychain.ErrNotFound) {
			d.cfg.Log.Warn("trusted-device secret unreadable; the second factor will be asked", "err", err)
		}
	}
	resp, err := client.Login(ctx, api.LoginRequest{
		Org: req.Org, Email: req.Email, Password: req.Password,
		Device:      api.LoginDevice{ID: deviceID, Name: d.cfg.DeviceName, Platform: d.cfg.DevicePlatform, Secret: deviceSecret},
		TOTP:        req.TOTP,
		TrustDevice: req.TrustDevice && req.TOTP != "",
	})
	if err != nil {
		if deviceSecret != "" && platform.CodeOf(err) == api.CodeMFARequired {
			// The platform no longer trusts this computer (revoked, or the
			// user's second factor was reset): the secret is worthless.
			if derr := kc.DeleteDeviceSecret(p.ID); derr != nil {
				d.cfg.Log.Warn("stale trusted-device secret not deleted", "err", derr)
			}
		}
		return d.State(), signInError(err, req.TOTP != "")
	}
	if err := kc.SetDeviceID(p.ID, resp.Device.ID); err != nil {
		d.cfg.Log.Warn("device id not stored", "err", err)
	}
	switch {
	case resp.DeviceSecret != "":
		if err := kc.SetDeviceSecret(p.ID, resp.DeviceSecret); err != nil {
			d.cfg.Log.Warn("trusted-device secret not stored; the second factor will be asked next time", "err", err)
		}
	case !resp.Device.Trusted || resp.Device.ID != deviceID:
		if err := kc.DeleteDeviceSecret(p.ID); err != nil {
			d.cfg.Log.Warn("stale trusted-device secret not deleted", "err", err)
		}
	}
	if err := kc.SetToken(p.ID, resp.Token); err != nil {
		return d.State(), &Error{Code: api.CodeInternal, Message: "The keychain refused to store your sign-in: " + err.Error(), Err: err}
	}
	if err := d.profiles.Save(p); err != nil {
		return d.State(), err
	}
	authed := client.WithToken(resp.Token)
	me, err := authed.Me(ctx)
	if err != nil {
		return d.State(), d.actionError(err)
	}
	d.setMessage("")
	if err := d.open(ctx, p, authed, &me, false); err != nil {
		return d.State(), err
	}
	opened = true
	d.emitAuth()
	return d.State(), nil
}

func signInError(err error, withTOTP bool) error {
	if platform.IsUnreachable(err) {
		return &Error{Code: CodeOffline, Field: "server", Message: "The platform cannot be reached at this address.", Err: err}
	}
	var ce *platform.CertificateError
	if errors.As(err, &ce) {
		field := "server"
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			field = "caFile" // what fixes it
		}
		return &Error{Code: CodeUntrustedCertificate, Field: field, Message: ce.Message(), Err: err}
	}
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return err
	}
	e := &Error{Code: pe.Code, Message: pe.Message, Err: err}
	switch pe.Code {
	case api.CodeMFARequired:
		e.Field = "totp"
		if withTOTP {
			e.Message = "That code is not valid. Enter the current code from your authenticator app."
		} else {
			e.Message = "Enter the 6-digit code from your authenticator app."
		}
	case api.CodeUnauthenticated:
		e.Field = "password"
		if withTOTP {
			e.Field = "totp"
		}
		e.Message = "The organization, e-mail or password is not right."
	case api.CodeRateLimited:
		e.Message = "Too many attempts. Wait a minute and try again."
	}
	return e
}

// open builds the workspace for p and starts its sync. offline says the
// platform did not answer; me is then nil and read from the cache.
func (d *Desk) open(ctx context.Context, p profile.Profile, client *platform.Client, me *api.Me, offline bool) error {
	d.life.Lock()
	defer d.life.Unlock()
	return d.openLocked(ctx, p, client, me, offline)
}

func (d *Desk) openLocked(ctx context.Context, p profile.Profile, client *platform.Client, me *api.Me, offline bool) error {
	d.closeLocked(nil) // one workspace at a time
	kc := d.keychain()
	retention, interval := d.retentionAndInterval()
	opts := cache.Options{Profile: p.ID, Retention: retention, Clock: d.cfg.Clock, Log: d.cfg.Log}
	if kc.Persistent() {
		key, created, err := kc.CacheKey(p.ID)
		if err != nil {
			return &Error{Code: CodeNoKeychain, Message: "The keychain did not give the cache key: " + err.Error(), Err: err}
		}
		if created {
			// A new key cannot read an old file: start from nothing, and
			// say so when there was something.
			if n, found := cache.Peek(d.cfg.CacheDir, p.ID); found {
				d.setNotice(keyLostNotice(n))
				d.cfg.Log.Warn("offline cache key missing from the keychain; the cache cannot be read and is deleted", "sessions", n)
			}
			_ = cache.Remove(d.cfg.CacheDir, p.ID)
		}
		opts.Dir, opts.Key = d.cfg.CacheDir, key
	}
	store, notice, err := cache.Open(ctx, opts)
	if err != nil {
		d.cfg.Log.Error("offline cache unusable; keeping it in memory", "err", err)
		store, _, err = cache.Open(ctx, cache.Options{Profile: p.ID, Clock: d.cfg.Clock, Log: d.cfg.Log})
		if err != nil {
			return err
		}
		notice = "The offline cache could not be opened; this run keeps it in memory only."
	}
	if notice != "" {
		d.setNotice(notice)
	}
	if me != nil {
		if err := store.SetMe(ctx, *me); err != nil {
			d.cfg.Log.Warn("identity not cached", "err", err)
		}
		d.rememberIdentity(p.ID, client, *me)
	} else if m, ok, _ := store.Me(ctx); ok {
		me = &m
	}
	// The identity is kept outside the cache too, so that losing the cache
	// does not lose who is signed in (an offline start then still shows
	// who you are and a way to sign out).
	if ident, ok, err := d.profiles.Identity(p.ID); err == nil && ok {
		client.SeedClockOffset(time.Duration(ident.ClockOffsetMS) * time.Millisecond)
		if me == nil {
			me = &ident.Me
		}
	}
	w := &workspace{
		prof: p, client: client, store: store,
		sessions: index.NewSessions(), devices: index.NewDevices(), audit: syncer.NewAuditTable(),
		done: make(chan struct{}), liveDone: make(chan struct{}),
	}
	if me != nil {
		w.me = *me
	} else {
		w.meStale = true
	}
	w.sync = syncer.New(syncer.Config{
		Source: client, Store: store, Sessions: w.sessions, Devices: w.devices, Audit: w.audit,
		Notifier: d.cfg.Notifier, Listener: &listener{d: d, w: w},
		Interval: interval, PageSize: d.cfg.SyncPageSize, Clock: d.cfg.Clock, ServerNow: client.Now, Log: d.cfg.Log,
		CacheNotice: d.setNoticeAndEmit,
	})
	if err := w.sync.Load(ctx); err != nil {
		// The cache opened but a row does not decrypt: start it over.
		store.Close()
		if opts.Dir == "" {
			return err
		}
		d.cfg.Log.Warn("offline cache rows unreadable; rebuilding", "err", err)
		if err := cache.Remove(opts.Dir, p.ID); err != nil {
			return err
		}
		d.setNotice("The offline cache could not be read (" + err.Error() + ") and was deleted; everything is fetched again from the platform at the next sync.")
		return d.openLocked(ctx, p, client, me, offline)
	}
	if offline {
		w.sync.SetOnline(false, "The platform cannot be reached.")
	}
	d.mu.Lock()
	runCtx, cancel := context.WithCancel(d.ctx)
	w.cancel = cancel
	d.ws = w
	d.mu.Unlock()
	go func() {
		defer close(w.done)
		w.sync.Run(runCtx)
	}()
	stream := live.New(live.Config{Client: client, Target: w.sync, Log: d.cfg.Log,
		SessionEnded: func() { d.ended(w) }})
	go func() {
		defer close(w.liveDone)
		stream.Run(runCtx)
	}()
	d.cfg.Log.Info("signed in", "profile", p.ID, "cache", cacheKind(store))
	return nil
}

// rememberIdentity keeps me (and the platform's clock offset) in the
// profile file, outside the cache.
func (d *Desk) rememberIdentity(id string, client *platform.Client, me api.Me) {
	ident := profile.Identity{Me: me}
	if off, ok := client.ClockOffset(); ok {
		ident.ClockOffsetMS = off.Milliseconds()
	}
	if err := d.profiles.SetIdentity(id, ident); err != nil {
		d.cfg.Log.Warn("identity not kept in the profile file", "err", err)
	}
}

// setNoticeAndEmit is the syncer's way to report a cache loss it found
// while the app runs.
func (d *Desk) setNoticeAndEmit(n string) {
	d.setNotice(n)
	d.emitAuth()
}

// keyLostNotice tells what was lost when the cache's key is missing from
// the keychain (n: sessions the file held, -1 when it could not be told).
func keyLostNotice(n int) string {
	what := "The offline cache"
	if n >= 0 {
		what = fmt.Sprintf("The offline cache (%d sessions)", n)
	}
	return what + " was deleted: its key was missing from the keychain, so it could not be read. Everything is fetched again from the platform at the next sync; until then nothing is cached."
}

func cacheKind(s *cache.Store) string {
	if s.Path() == "" {
		return "memory"
	}
	return filepath.Base(s.Path())
}

// Close stops the sync and closes the cache of the open workspace, if any.
func (d *Desk) Close() {
	d.life.Lock()
	defer d.life.Unlock()
	d.closeLocked(nil)
}

// closeIf closes w if it is still the open workspace, and nothing else: a
// late reaction to w (its token rejected, its sign-out) must not close the
// workspace of a sign-in that replaced it.
func (d *Desk) closeIf(w *workspace) bool {
	d.life.Lock()
	defer d.life.Unlock()
	return d.closeLocked(w)
}

// closeLocked closes the open workspace; when only is not nil, only if that
// is the open one. It reports whether it closed one. The caller holds d.life.
func (d *Desk) closeLocked(only *workspace) bool {
	d.mu.Lock()
	w := d.ws
	if w == nil || (only != nil && w != only) {
		d.mu.Unlock()
		return false
	}
	d.ws = nil
	d.mu.Unlock()
	w.cancel()
	<-w.done
	<-w.liveDone
	if err := w.store.Close(); err != nil {
		d.cfg.Log.Warn("closing cache", "err", err)
	}
	w.client.CloseIdleConnections()
	return true
}

// SignOut ends the platform session (best effort: offline is fine), deletes
// the token, closes the workspace and, with purge, deletes the profile's
// cache and its key.
func (d *Desk) SignOut(ctx context.Context, purge bool) error {
	if d.signOut(ctx, purge) {
		d.emitAuth()
	}
	return nil
}

// signOut is SignOut without telling the UI, for callers that have more to
// do before the UI may show the signed-out state; it reports whether a
// workspace was open.
func (d *Desk) signOut(ctx context.Context, purge bool) bool {
	d.mu.Lock()
	w := d.ws
	d.mu.Unlock()
	if w == nil {
		return false
	}
	if err := w.client.Logout(ctx); err != nil && !platform.IsUnauthenticated(err) {
		d.cfg.Log.Info("platform logout failed; forgetting the token anyway", "err", err)
	}
	kc := d.keychain()
	if err := kc.DeleteToken(w.prof.ID); err != nil {
		d.cfg.Log.Warn("token not deleted from keychain", "err", err)
	}
	d.closeIf(w)
	if purge {
		if err := cache.Remove(d.cfg.CacheDir, w.prof.ID); err != nil {
			d.cfg.Log.Warn("cache not purged", "err", err)
		}
		if err := kc.DeleteProfile(w.prof.ID); err != nil {
			d.cfg.Log.Warn("profile secrets not deleted", "err", err)
		}
	}
	if err := d.profiles.ForgetIdentity(w.prof.ID); err != nil {
		d.cfg.Log.Warn("identity not forgotten", "err", err)
	}
	_ = d.profiles.ClearLast()
	d.setMessage("")
	d.mu.Lock()
	d.notice = ""
	d.mu.Unlock()
	return true
}

// ended handles a 401 on the stored token (or the event stream's
// session_ended): the session is over. Several paths can learn it at once;
// only the first acts.
func (d *Desk) ended(w *workspace) {
	w.endOnce.Do(func() { d.endedOnce(w) })
}

func (d *Desk) endedOnce(w *workspace) {
	d.mu.Lock()
	if d.ws != w {
		d.mu.Unlock()
		return // already closed
	}
	d.mu.Unlock()
	if err := d.keychain().DeleteToken(w.prof.ID); err != nil {
		d.cfg.Log.Warn("rejected token not deleted from keychain", "err", err)
	}
	if err := d.profiles.ForgetIdentity(w.prof.ID); err != nil {
		d.cfg.Log.Warn("identity not forgotten", "err", err)
	}
	d.cfg.Log.Info("platform rejected the stored token; signed out", "profile", w.prof.ID)
	d.setMessage("Your session has ended. Sign in again.")
	// Closing waits for the sync loop, which may be the caller: do it
	// apart, and only to w (a new sign-in may have replaced it by then).
	go func() {
		if d.closeIf(w) {
			d.emitAuth()
		}
	}()
}

// listener forwards sync events to Desk's Events.
type listener struct {
	d *Desk
	w *workspace
}

func (l *listener) Changed(domain string) {
	if l.d.cfg.Events != nil {
		l.d.cfg.Events.Changed(domain)
	}
}

func (l *listener) Status(st syncer.Status) {
	if l.d.cfg.Events != nil {
		l.d.cfg.Events.SyncStatus(st)
	}
	l.w.mu.Lock()
	refresh := false
	switch {
	case !st.Online:
		l.w.meStale = true
	case l.w.meStale && !st.Syncing && st.LastError == "":
		l.w.meStale, refresh = false, true
	}
	l.w.mu.Unlock()
	if refresh {
		go l.d.refreshMe(l.w)
	}
}

// refreshMe asks the platform again who the token belongs to (after an
// offline start, or an outage during which permissions may have changed).
func (d *Desk) refreshMe(w *workspace) {
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	me, err := w.client.Me(ctx)
	if err != nil {
		if platform.IsUnauthenticated(err) {
			d.ended(w)
		}
		return
	}
	if !d.SignedInAs(w.prof.ID) {
		return
	}
	w.mu.Lock()
	w.me = me
	w.mu.Unlock()
	if err := w.store.SetMe(ctx, me); err != nil {
		d.cfg.Log.Warn("identity not cached", "err", err)
	}
	d.rememberIdentity(w.prof.ID, w.client, me)
	if d.SignedInAs(w.prof.ID) {
		d.emitAuth()
	}
}

func (l *listener) Unauthenticated(error) { l.d.ended(l.w) }

// current returns the open workspace or a signed-out error.
func (d *Desk) current() (*workspace, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ws == nil {
		return nil, &Error{Code: CodeSignedOut, Message: "Sign in first."}
	}
	return d.ws, nil
}

// actionError turns a platform error into a user error and reacts to it.
func (d *Desk) actionError(err error) error {
	if platform.Answered(err) {
		// The platform is there: busy (503), or the link broke off after
		// it answered, when the action may well have been done.
		var pe *platform.Error
		if errors.As(err, &pe) {
			msg := "The platform is busy, so nothing was changed. Try again in a moment."
			if wait, ok := platform.RetryAfterOf(err); ok {
				msg = fmt.Sprintf("The platform is busy, so nothing was changed. Try again in %s.", wait.Round(time.Second))
			}
			return &Error{Code: api.CodeUnavailable, Message: msg, Err: err}
		}
		return &Error{Code: api.CodeUnavailable, Message: "The connection to the platform broke off while it answered, so whether it was done is not known; the next sync shows it.", Err: err}
	}
	if platform.IsUnreachable(err) {
		return &Error{Code: CodeOffline, Message: "The platform cannot be reached, so nothing was changed. Try again when you are back online.", Err: err}
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		return &Error{Code: pe.Code, Message: pe.Message, Err: err}
	}
	return fmt.Errorf("desk: %w", err)
}

func (d *Desk) fail(w *workspace, err error) error {
	if platform.IsUnauthenticated(err) {
		d.ended(w)
	}
	if platform.IsUnreachable(err) && !platform.Answered(err) {
		w.sync.SetOnline(false, "The platform cannot be reached.")
	}
	if platform.Answered(err) {
		w.sync.Trigger() // an answer that broke off may hide a change
	}
	return d.actionError(err)
}
