package desk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/settings"
	"sessiondesk/app/syncer"
)

// prefs is the settings state of a Desk: the file and what it said last.
type prefs struct {
	store *settings.Store
	cur   settings.Settings
	saved bool // false: the file has none, Config's retention and interval stand
}

func openPrefs(cfg Config) (prefs, error) {
	retention := cfg.Retention
	if retention <= 0 {
		retention = cache.DefaultRetention
	}
	interval := cfg.SyncInterval
	if interval <= 0 {
		interval = syncer.DefaultInterval
	}
	st, err := settings.Open(cfg.ConfigDir, settings.Defaults(retention, interval))
	if err != nil {
		return prefs{}, err
	}
	cur, saved := st.Load()
	return prefs{store: st, cur: cur, saved: saved}, nil
}

// Settings returns the workstation's settings.
func (d *Desk) Settings() settings.Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.prefs.cur
}

// retentionAndInterval are what a workspace opens with: the saved settings,
// or Config's values until the user saved any (tests and the -sync-interval
// flag go below the bounds a user may pick).
func (d *Desk) retentionAndInterval() (time.Duration, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.prefs.saved {
		return d.cfg.Retention, d.cfg.SyncInterval
	}
	return d.prefs.cur.Retention(), d.prefs.cur.SyncInterval()
}

// SaveSettings checks and stores v. A new retention or sync interval
// reopens the open workspace, so that they apply at once.
func (d *Desk) SaveSettings(ctx context.Context, v settings.Settings) (settings.Settings, error) {
	if err := v.Validate(); err != nil {
		var fe *settings.FieldError
		errors.As(err, &fe)
		return d.Settings(), &Error{Code: domain.KindInvalid, Field: fe.Field, Message: settingsFieldMessage(fe.Field), Err: err}
	}
	oldR, oldI := d.retentionAndInterval()
	wasShared := d.shared()
	if err := d.prefs.store.Save(v); err != nil {
		return d.Settings(), fmt.Errorf("desk: %w", err)
	}
	d.mu.Lock()
	d.prefs.cur, d.prefs.saved = v, true
	d.mu.Unlock()
	if v.SharedWorkstation != wasShared {
		if v.SharedWorkstation {
			d.forgetDeviceSecrets() // never kept on a shared workstation
		}
		d.emitAuth() // the sign-in form offers "Trust this device" or not
	}
	if newR, newI := d.retentionAndInterval(); newR != oldR || newI != oldI {
		if err := d.reopen(ctx, false); err != nil {
			return v, err
		}
	}
	return v, nil
}

// CacheInfo is what the Settings view says about the offline copy.
type CacheInfo struct {
	Folder         string
	File           string // "" when the cache lives in memory only
	Bytes          int64
	Oldest         time.Time
	Encrypted      bool // always: sealed under a key, on disk or in memory
	KeyInKeychain  bool
	RetentionDays  int
	SettingsFile   string
	ProfilesFile   string
	KeychainNotice string
}

// CacheInfo describes the open profile's cache.
func (d *Desk) CacheInfo(ctx context.Context) (CacheInfo, error) {
	w, err := d.Workspace()
	if err != nil {
		return CacheInfo{}, err
	}
	kc := d.keychain()
	st := d.Settings()
	info := CacheInfo{
		Folder: d.cfg.CacheDir, File: w.store.Path(), Encrypted: true, KeyInKeychain: kc.Persistent(),
		RetentionDays: st.RetentionDays, SettingsFile: d.prefs.store.Path(), ProfilesFile: d.profiles.Path(),
	}
	if r, _ := d.retentionAndInterval(); r > 0 {
		info.RetentionDays = int(r / (24 * time.Hour))
	}
	if !kc.Persistent() {
		info.KeychainNotice = msgNoKeychain
	}
	if info.File != "" {
		if info.Bytes, err = cache.Size(d.cfg.CacheDir, w.prof.ID); err != nil {
			return info, err
		}
	}
	if info.Oldest, err = w.store.Oldest(ctx); err != nil && !cache.IsClosed(err) {
		return info, err
	}
	return info, nil
}

// ForgetCachedData deletes the open profile's offline copy and its key, then
// starts over with a new key and an empty cache (the user stays signed in,
// and the next sync fetches what the platform has now).
func (d *Desk) ForgetCachedData(ctx context.Context) error {
	return d.reopen(ctx, true)
}

// reopen closes the open workspace and opens it again with the current
// settings; forget deletes its cache files and key in between.
func (d *Desk) reopen(ctx context.Context, forget bool) error {
	d.life.Lock()
	defer d.life.Unlock()
	d.mu.Lock()
	w := d.ws
	d.mu.Unlock()
	if w == nil {
		if forget {
			return errSignInFirst()
		}
		return nil
	}
	me := w.Me()
	offline := !w.sync.Status().Online
	noticeBefore := d.State().Notice
	d.closeLocked(w)
	if forget {
		if err := d.forgetCache(w.prof.ID); err != nil {
			return err
		}
	}
	var mp *domain.Me
	if me.User.ID != "" {
		mp = &me
	}
	if err := d.openLocked(d.runContext(), w.prof, w.prov, mp, offline); err != nil {
		return err
	}
	d.mu.Lock()
	nw := d.ws
	d.mu.Unlock()
	if nw != nil && !offline {
		nw.sync.Trigger()
	}
	if d.cfg.Events != nil {
		for _, domain := range []string{"sessions", "devices", "audit"} {
			d.cfg.Events.Changed(domain)
		}
		if nw != nil {
			d.cfg.Events.SyncStatus(nw.sync.Status())
		}
	}
	// Opening again may have found a loss (files deleted meanwhile, a
	// damaged file): the UI hears of it now, not at the next sign-in.
	if d.State().Notice != noticeBefore {
		d.emitAuth()
	}
	return nil
}

func (d *Desk) runContext() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

// forgetCache deletes a profile's cache files and its cache key.
func (d *Desk) forgetCache(id string) error {
	if err := d.removeCacheAnd(id, "cache key", d.keychain().DeleteCacheKey); err != nil {
		return &Error{Code: domain.KindInternal, Message: "Some cached data could not be deleted: " + err.Error(), Err: err}
	}
	return nil
}

// RemoveProfile forgets a remembered account: it signs it out if it is the
// open one, then deletes its keychain entries (token, device id and secret,
// cache key), its cache files and its entry in the profiles file. The UI
// hears of the sign-out only after all that: it then shows the sign-in form
// with the remembered accounts, which must no longer list this one.
func (d *Desk) RemoveProfile(ctx context.Context, id string) error {
	if _, ok, err := d.profiles.Get(id); err != nil {
		return err
	} else if !ok {
		return &Error{Code: domain.KindNotFound, Message: msgNoSuchAccount}
	}
	if d.SignedInAs(id) && d.signOut(ctx, true) {
		defer d.emitAuth()
	}
	var errs []error
	if err := d.forgetCopy(id); err != nil {
		errs = append(errs, err)
	}
	if err := d.profiles.Delete(id); err != nil {
		errs = append(errs, fmt.Errorf("profiles: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return &Error{Code: domain.KindInternal, Message: "The account was not removed completely: " + err.Error(), Err: err}
	}
	return nil
}

// gatedNotifier drops notifications while the user has them turned off.
type gatedNotifier struct {
	inner syncer.Notifier
	d     *Desk
}

func (g gatedNotifier) NewDevice(ctx context.Context, dev domain.Device, where string) error {
	if !g.d.Settings().Notifications {
		return nil
	}
	return g.inner.NewDevice(ctx, dev, where)
}

func (g gatedNotifier) NewDevices(ctx context.Context, ds []domain.Device) error {
	if !g.d.Settings().Notifications {
		return nil
	}
	return g.inner.NewDevices(ctx, ds)
}
