package desk

// The workspace lifecycle: everything that exists while one profile is
// signed in (platform client, cache, indexes, sync, event stream), how it
// is opened and closed, and how it ends when the platform rejects the token.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider"
	"sessiondesk/app/syncer"
)

// open builds the workspace for p and starts its sync. offline says the
// platform did not answer; me is then nil and read from the cache.
func (d *Desk) open(ctx context.Context, p profile.Profile, prov provider.Provider, me *domain.Me, offline bool) error {
	d.life.Lock()
	defer d.life.Unlock()
	return d.openLocked(ctx, p, prov, me, offline)
}

func (d *Desk) openLocked(ctx context.Context, p profile.Profile, prov provider.Provider, me *domain.Me, offline bool) error {
	d.closeLocked(nil) // one workspace at a time
	w, err := d.prepareLocked(ctx, p, prov, me)
	if err != nil {
		return err
	}
	d.startLocked(w, offline)
	return nil
}

// prepare builds the workspace for p from its cache alone — opened, its
// rows loading into the indexes, who is signed in as the cache knows it —
// without starting its sync or making it the open one: resuming asks the
// platform only once this is done (see ResumeProfile). Then start or
// discard it. A workspace already open stays so until start: the platform
// may still refuse p's token.
func (d *Desk) prepare(ctx context.Context, p profile.Profile, prov provider.Provider) (*Workspace, error) {
	d.life.Lock()
	defer d.life.Unlock()
	return d.prepareLocked(ctx, p, prov, nil)
}

// start makes the prepared w the open workspace (closing the one open, if
// any) and starts its sync, offline when the platform did not answer (the
// sync reconnects by itself).
func (d *Desk) start(w *Workspace, offline bool) {
	d.life.Lock()
	defer d.life.Unlock()
	d.closeLocked(nil) // one workspace at a time
	d.startLocked(w, offline)
}

func (d *Desk) startLocked(w *Workspace, offline bool) {
	if offline {
		w.sync.SetOnline(false, syncWords{kind: w.prof.Provider}.Problem(syncer.Unreachable, 0, nil))
	}
	d.startWorkspace(w)
	d.cfg.Log.Info("signed in", "profile", w.prof.ID, "cache", cacheKind(w.store), "offline", offline)
}

// discard closes a prepared workspace that was never started (the
// platform refused its token). A load still running stops at the closed
// cache. The provider is the caller's.
func (d *Desk) discard(w *Workspace) {
	if err := w.store.Close(); err != nil {
		d.cfg.Log.Warn("closing cache", "err", err)
	}
}

// setMe records who the platform just said is signed in on w: in w, the
// cache and the profile file (see knownMe).
func (d *Desk) setMe(ctx context.Context, w *Workspace, me domain.Me) {
	d.knownMe(ctx, w.prof, w.prov, w.store, &me)
	w.mu.Lock()
	w.me, w.meStale = me, false
	w.mu.Unlock()
}

// prepareLocked is prepare with d.life held.
func (d *Desk) prepareLocked(ctx context.Context, p profile.Profile, prov provider.Provider, me *domain.Me) (*Workspace, error) {
	_, interval := d.retentionAndInterval()
	store, persistent, err := d.openStore(ctx, p)
	if err != nil {
		return nil, err
	}
	me = d.knownMe(ctx, p, prov, store, me)
	w := &Workspace{
		prof: p, prov: prov, store: store,
		sessions: index.NewSessions(), devices: index.NewDevices(), audit: syncer.NewAuditTable(),
		log: d.cfg.Log, done: make(chan struct{}), liveDone: make(chan struct{}),
	}
	// A first sort of a table leaves its scratch as garbage (48 MB at a
	// million rows): collected at once while memory is held near live.
	w.sessions.OnScratchFreed(syncer.CollectScratch)
	w.devices.OnScratchFreed(syncer.CollectScratch)
	w.audit.OnScratchFreed(syncer.CollectScratch)
	w.ended = func() { d.endedOnce(w) }
	if me != nil {
		w.me = *me
	} else {
		w.meStale = true
	}
	w.sync = syncer.New(syncer.Config{
		Source: prov, Store: store, Sessions: w.sessions, Devices: w.devices, Audit: w.audit,
		Notifier: d.cfg.Notifier, Listener: &listener{d: d, w: w},
		Interval: interval, PageSize: d.cfg.SyncPageSize, Clock: d.cfg.Clock, ServerNow: prov.Now, Log: d.cfg.Log,
		CacheNotice: d.cacheLost, Words: syncWords{kind: p.Provider},
		// After a full sync or the cache's load, the cache's page caches
		// and the free heap they left go back to the system (a GC off the
		// UI's path; docs/bench.md), and the heap is held near what is
		// live until the next one.
		Released: func() {
			if err := store.ReleaseMemory(context.Background()); err != nil {
				d.cfg.Log.Info("offline cache's memory not released", "err", err)
			}
			syncer.ReleaseMemory(d.cfg.Log)
			syncer.HoldNearLive()
		},
		Growing: syncer.LiftMemoryLimit,
	})
	if err := w.sync.Load(ctx); err != nil {
		// The cache opened but a row does not decrypt: start it over.
		store.Close()
		if !persistent {
			return nil, err
		}
		d.cfg.Log.Warn("offline cache rows unreadable; rebuilding", "err", err)
		if err := d.removeCache(p.ID); err != nil {
			return nil, err
		}
		d.setNotice(rowsLostNotice(err))
		return d.prepareLocked(ctx, p, prov, me)
	}
	return w, nil
}

// openStore opens profile p's offline cache: in a file under a key from
// the keychain when the keychain keeps secrets (persistent), else in
// memory. A cache file that cannot be opened is replaced by one in memory
// for this run, and the user told.
func (d *Desk) openStore(ctx context.Context, p profile.Profile) (store *cache.Store, persistent bool, err error) {
	kc := d.keychain()
	retention, _ := d.retentionAndInterval()
	opts := cache.Options{Profile: p.ID, Retention: retention, Clock: d.cfg.Clock, Log: d.cfg.Log}
	if kc.Persistent() {
		// Before anything creates the file: was it deleted behind our back?
		d.checkCacheGone(p)
		key, created, err := kc.CacheKey(p.ID)
		if err != nil {
			return nil, false, &Error{Code: CodeNoKeychain, Message: "The keychain did not give the cache key: " + err.Error(), Err: err}
		}
		if created {
			// A new key cannot read an old file: start from nothing, and
			// say so when there was something.
			if n, found := cache.Peek(d.cfg.CacheDir, p.ID); found {
				d.setNotice(keyLostNotice(n))
				d.cfg.Log.Warn("offline cache key missing from the keychain; the cache cannot be read and is deleted", "sessions", n)
			}
			_ = d.removeCache(p.ID)
		}
		opts.Dir, opts.Key = d.cfg.CacheDir, key
	}
	store, lost, err := cache.Open(ctx, opts)
	if err != nil {
		d.cfg.Log.Error("offline cache unusable; keeping it in memory", "err", err)
		store, _, err = cache.Open(ctx, cache.Options{Profile: p.ID, Clock: d.cfg.Clock, Log: d.cfg.Log})
		if err != nil {
			return nil, false, err
		}
		d.setNotice(noticeCacheInMemory)
	} else if lost != nil {
		d.setNotice(damagedNotice(lost, nil))
	}
	return store, opts.Dir != "", nil
}

// knownMe is who is signed in: me when the platform just said so (then
// kept in the cache and the profile), else as the cache or the profile
// file last knew it (nil: not known).
func (d *Desk) knownMe(ctx context.Context, p profile.Profile, prov provider.Provider, store *cache.Store, me *domain.Me) *domain.Me {
	if me != nil {
		if err := store.SetMe(ctx, *me); err != nil {
			d.cfg.Log.Warn("identity not cached", "err", err)
		}
		d.rememberIdentity(p.ID, prov, *me)
	} else if m, ok, _ := store.Me(ctx); ok {
		me = &m
	}
	// The identity is kept outside the cache too, so that losing the cache
	// does not lose who is signed in (an offline start then still shows
	// who you are and a way to sign out).
	if ident, ok, err := d.profiles.Identity(p.ID); err == nil && ok {
		prov.SeedClockOffset(time.Duration(ident.ClockOffsetMS) * time.Millisecond)
		if me == nil {
			me = &ident.Me
		}
	}
	return me
}

// startWorkspace makes w the open workspace and starts its sync loop and
// its provider's live source.
func (d *Desk) startWorkspace(w *Workspace) {
	d.mu.Lock()
	runCtx, cancel := context.WithCancel(d.ctx)
	w.cancel = cancel
	d.ws = w
	d.mu.Unlock()
	// A cache that already holds a sync is marked now (a file written
	// before the mark existed); a new one at its first sync (listener).
	if w.sync.Status().LastSyncAt != nil {
		d.markCacheWritten(w)
	}
	go func() {
		defer close(w.done)
		w.sync.Run(runCtx)
	}()
	go func() {
		defer close(w.liveDone)
		w.prov.Watch(runCtx, w.sync, func() { d.ended(w) })
	}()
}

// rememberIdentity keeps me (and the platform's clock offset) in the
// profile file, outside the cache.
func (d *Desk) rememberIdentity(id string, prov provider.Clock, me domain.Me) {
	ident := profile.Identity{Me: me}
	if off, ok := prov.ClockOffset(); ok {
		ident.ClockOffsetMS = off.Milliseconds()
	}
	if err := d.profiles.SetIdentity(id, ident); err != nil {
		d.cfg.Log.Warn("identity not kept in the profile file", "err", err)
	}
}

// checkCacheGone tells the user when p's cache file was deleted outside the
// app. The profile file marks a cache once it holds a sync, and every
// deletion by the app itself clears that mark first (removeCache), so a
// mark without its file is a loss nobody here chose. The mark is dropped
// once told; the next sync writes the file and marks it again.
func (d *Desk) checkCacheGone(p profile.Profile) {
	if _, marked, err := d.profiles.CacheWritten(p.ID); err != nil || !marked {
		return
	}
	path := cache.FilePath(d.cfg.CacheDir, p.ID)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return // there, or not knowable (permissions): nothing to claim
	}
	d.cfg.Log.Warn("offline cache file deleted outside the app", "path", path)
	d.setNotice(goneNotice(p, path))
	if err := d.profiles.ForgetCacheWritten(p.ID); err != nil {
		d.cfg.Log.Warn("cache mark not cleared in the profile file", "err", err)
	}
}

// removeCache is every deletion of a profile's cache files by the app
// itself (forget, sign-out forgetting, account removal, a key or rows that
// no longer open). It clears the profile file's mark first, so that the
// missing file is not later told as deleted outside the app.
func (d *Desk) removeCache(id string) error {
	if err := d.profiles.ForgetCacheWritten(id); err != nil {
		return fmt.Errorf("desk: clearing the cache mark: %w", err)
	}
	return cache.Remove(d.cfg.CacheDir, id)
}

// markCacheWritten records in the profile file that w's cache file holds
// a sync, once per workspace and only while w is the open one: a closed
// workspace's late sync status must not mark a cache the app has since
// deleted. d.mu is held across the write for that reason.
func (d *Desk) markCacheWritten(w *Workspace) {
	if w.store.Path() == "" {
		return // in memory: nothing on disk to lose
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ws != w || w.cacheMarked {
		return
	}
	w.cacheMarked = true
	if err := d.profiles.MarkCacheWritten(w.prof.ID, d.cfg.Clock()); err != nil {
		d.cfg.Log.Warn("cache mark not kept in the profile file", "err", err)
	}
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
func (d *Desk) closeIf(w *Workspace) bool {
	d.life.Lock()
	defer d.life.Unlock()
	return d.closeLocked(w)
}

// closeLocked closes the open workspace; when only is not nil, only if that
// is the open one. It reports whether it closed one. The caller holds d.life.
func (d *Desk) closeLocked(only *Workspace) bool {
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
	w.prov.Close()
	return true
}

// SignOut ends the platform session (best effort: offline is fine), deletes
// the token, closes the workspace and, with purge (always on a shared
// workstation), forgets this workstation's copy (forgetCopy).
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
	if err := w.prov.SignOut(ctx); err != nil && !domain.IsUnauthenticated(err) {
		d.cfg.Log.Info("platform logout failed; forgetting the token anyway", "err", err)
	}
	kc := d.keychain()
	if err := kc.DeleteToken(w.prof.ID); err != nil {
		d.cfg.Log.Warn("token not deleted from keychain", "err", err)
	}
	d.closeIf(w)
	if purge || d.shared() {
		if err := d.forgetCopy(w.prof.ID); err != nil {
			d.cfg.Log.Warn("this workstation's copy not forgotten", "err", err)
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
func (d *Desk) ended(w *Workspace) { w.end() }

func (d *Desk) endedOnce(w *Workspace) {
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
	d.setMessage(messageSessionEnded)
	// Closing waits for the sync loop, which may be the caller: do it
	// apart, and only to w (a new sign-in may have replaced it by then).
	// A shared workstation forgets the copy once the cache is closed,
	// before the UI hears of the end.
	go func() {
		if !d.closeIf(w) {
			return
		}
		if d.shared() {
			if err := d.forgetCopy(w.prof.ID); err != nil {
				d.cfg.Log.Warn("this workstation's copy not forgotten after the session ended", "err", err)
			}
		}
		d.emitAuth()
	}()
}

// Shutdown is the app quitting. On a shared workstation that ends the
// session: it is signed out at the platform (best effort within ctx) and
// this workstation's copy forgotten, as at sign-out. Elsewhere the
// workspace only closes, and the next start resumes it.
func (d *Desk) Shutdown(ctx context.Context) {
	if d.shared() && d.signOut(ctx, true) {
		return
	}
	d.Close()
}

// listener forwards sync events to Desk's Events.
type listener struct {
	d *Desk
	w *Workspace
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
	if st.LastSyncAt != nil {
		l.d.markCacheWritten(l.w)
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
func (d *Desk) refreshMe(w *Workspace) {
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	me, err := w.prov.Me(ctx)
	if err != nil {
		if domain.IsUnauthenticated(err) {
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
	d.rememberIdentity(w.prof.ID, w.prov, me)
	if d.SignedInAs(w.prof.ID) {
		d.emitAuth()
	}
}

func (l *listener) Unauthenticated(error) { l.d.ended(l.w) }
