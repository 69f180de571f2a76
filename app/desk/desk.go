// Package desk is the app's state below the UI, in two parts. Desk is what
// outlives a sign-in: the lifecycle, sign-in, the keychain, the remembered
// profiles, the settings and the notices. Workspace is one signed-in
// account: its provider (app/provider), its open offline cache and
// indexes, its running sync, and the lists, actions and investigation the
// UI asks for. The bound services of package bind are thin adapters over
// both; the package itself knows nothing of Wails, so it is tested without
// a window.
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
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/syncer"
)

// Events is how Desk tells the UI what happened. Implementations must not
// block.
type Events interface {
	AuthChanged(AuthState)
	Changed(domain string) // "sessions", "devices", "audit"
	SyncStatus(syncer.Status)
}

// AuthState is who is signed in and whether secrets are safe.
type AuthState struct {
	SignedIn bool
	Demo     bool
	Profile  *profile.Profile
	Me       *domain.Me
	// Capabilities is what the signed-in provider can do (nil signed out).
	Capabilities      *domain.Capabilities
	KeychainAvailable bool
	KeychainMessage   string
	// Message explains the last change to the user (e.g. "your session was
	// ended"); empty when there is nothing to say.
	Message string
	// DefaultServer is the address the sign-in form starts with: the
	// platform the app was started for (Config.Server), "" without one.
	DefaultServer string
	// Notice tells the signed-in user that cached data was lost and why
	// (a damaged file, a cache key gone from the keychain). It stays until
	// DismissNotice; the sync status never overwrites it.
	Notice string
	// SharedWorkstation is the setting: the app then keeps no trusted-device
	// secret (the sign-in form offers no "Trust this device") and forgets
	// this workstation's copy at every end of a session (see credentials.go).
	SharedWorkstation bool
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
	Client        httpx.Options
	SyncInterval  time.Duration
	SyncPageSize  int
	Retention     time.Duration
	Clock         func() time.Time
	Log           *slog.Logger
	// Server is the platform the app was started for (-server; "" in demo
	// mode). Sign-in starts there: see startProfile.
	Server string
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
	ws        *Workspace
	prefs     prefs // see settings.go
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
	cfg.Server = profile.CleanServerURL(cfg.Server)
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
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
	d.probeKeychain(ctx)
	if err := d.Resume(ctx); err != nil {
		d.cfg.Log.Info("no previous session resumed", "err", err)
	}
	d.emitAuth()
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
	st := AuthState{KeychainAvailable: d.kcOK, KeychainMessage: d.kcMessage, Message: d.message, Notice: d.notice, DefaultServer: d.cfg.Server,
		SharedWorkstation: d.prefs.cur.SharedWorkstation}
	if w := d.ws; w != nil {
		p := w.prof
		me := w.Me()
		caps := w.Capabilities()
		st.SignedIn, st.Demo, st.Profile, st.Capabilities = true, p.Demo, &p, &caps
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

// cacheLost is the syncer's way to report a cache loss it found while the
// app runs (see syncer.Config.CacheNotice).
func (d *Desk) cacheLost(lost *cache.Loss, err error) {
	d.setNotice(damagedNotice(lost, err))
	d.emitAuth()
}
