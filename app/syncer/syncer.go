// Package syncer keeps one profile's offline cache and in-memory indexes in
// step with the platform, and announces devices never seen before.
//
// The first sync of a cache is a full one (every session of any status, every
// device, read through the updated_since feed from the epoch so that rows
// changed while it pages come back at its end); later ones ask only for what
// changed since the highest updated_at already held (updated_since, with a
// one-second overlap so that a change stamped in the same instant as the mark
// is not lost; repeats are recognized and ignored). A sync runs on an
// interval (default 30 s), on demand, and right after every action. Pages
// are gathered first and written in one cache transaction at the end
// (applyDelta), so a sync that fails half way leaves the previous snapshot
// whole. The pages it gathered are kept in memory with the cursor after the
// last good one, and the next sync resumes there instead of starting over
// (the feeds and the audit log are keyset-paged, so a cursor stays valid):
// on a link that drops one answer in twenty, a full sync of 100,000
// sessions still completes. Sessions, devices and the audit log are read
// by one page walker (walkFeed) and resume alike.
//
// Networks. The page size adapts to the link: a page that takes longer
// than slowPage halves the next one (down to minPage), a quick full page
// doubles it again (up to PageSize), so a slow link still moves pages well
// inside the client's time limits. After a 429 or 503 with Retry-After the
// syncer sends nothing until that time has passed, and says so.
//
// Clocks. Anything computed from time (the audit log's retention cutoff,
// the cache's retention) uses the platform's clock (Config.ServerNow, from
// the answers' Date headers), not the workstation's.
//
// New devices: the cache keeps the set of device ids the profile has seen.
// The first complete sync of a profile only records the baseline; after that
// every device that enters the set is announced once, through the Notifier,
// after the transaction that recorded it has committed (more than
// MaxSeparateNotifications in one sync, as after a long offline gap, in one
// summary notification). Because the set is
// persisted with the data, a restart does not announce anything twice.
package syncer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider"
)

// DefaultInterval is the time between background syncs.
const DefaultInterval = 30 * time.Second

// Source is what a sync reads: the provider's lists (provider.Reader).
type Source = provider.Reader

// Notifier announces new devices: one at a time (where is the session's
// location, if known), or many at once in one summary.
type Notifier interface {
	NewDevice(ctx context.Context, d domain.Device, where string) error
	NewDevices(ctx context.Context, ds []domain.Device) error
}

// MaxSeparateNotifications is how many new devices one sync announces one
// by one. More (a sync after a long offline gap) are announced in a single
// summary notification instead of a flood of bubbles.
const MaxSeparateNotifications = 3

// Listener hears what a sync did. Calls come from the sync's goroutine and
// must not block for long.
type Listener interface {
	Changed(domain string) // "sessions", "devices" or "audit"
	Status(Status)
	// Unauthenticated: the platform rejected the token; the profile's
	// session is over.
	Unauthenticated(err error)
}

// Config wires a Syncer.
type Config struct {
	Source   Source
	Store    *cache.Store
	Sessions *index.Table[domain.Session]
	Devices  *index.Table[domain.Device]
	Audit    *index.Table[domain.AuditEvent]
	Notifier Notifier // nil: none
	Listener Listener // nil: none
	Interval time.Duration
	PageSize int // default domain.MaxPage
	// AuditPages bounds how many pages of the audit log one sync reads
	// from the newest event (and again from a resume cursor, see
	// syncAudit); the rest is read by the next syncs.
	AuditPages int
	Clock      func() time.Time // the workstation's clock (status times, waits)
	// ServerNow is the platform's clock (provider.Clock.Now); nil: Clock.
	ServerNow func() time.Time
	// CacheNotice tells the user that cached data was lost (a damaged
	// file found after loading and rebuilt), or that the damaged file could
	// not be rebuilt (err); nil: only logged.
	CacheNotice func(lost *cache.Loss, err error)
	// Words word the status (see Words); nil: technical text.
	Words Words
	// Released is called when a large transient is over: a full sync's
	// rows are in the index, or the cache's load is (see release). It runs
	// in the background, never under the sync lock, after the sessions'
	// default order is built: the place to hand the freed memory back to
	// the system (ReleaseMemory). nil: nothing.
	Released func()
	// Growing is called when such a transient begins (a full sync, the
	// cache's load): the place to lift a memory limit (LiftMemoryLimit).
	// A full sync that fails is not followed by Released. nil: nothing.
	Growing func()
	Log     *slog.Logger
}

// Syncer runs the syncs of one signed-in profile.
type Syncer struct {
	cfg     Config // Interval guarded by mu
	base    time.Duration
	trigger chan struct{}
	// rescheduled tells Run that SetInterval shortened the interval.
	rescheduled chan struct{}
	runMu       sync.Mutex // one sync at a time

	// Guarded by runMu: the sync interrupted half way, the page size
	// learned from the link, and when the platform may be asked again.
	pending  *pending
	pageSize int
	retryAt  time.Time

	mu     sync.Mutex
	status Status

	loaded  chan struct{} // closed when Load's rows are in
	loadErr error
}

// overlap is how far before the mark a delta asks, see the package comment.
const overlap = time.Second

// New returns a Syncer; call Load, then Run.
func New(cfg Config) *Syncer {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.PageSize <= 0 || cfg.PageSize > domain.MaxPage {
		cfg.PageSize = domain.MaxPage
	}
	if cfg.AuditPages <= 0 {
		cfg.AuditPages = 5
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ServerNow == nil {
		cfg.ServerNow = cfg.Clock
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{cfg: cfg, base: cfg.Interval, trigger: make(chan struct{}, 1), rescheduled: make(chan struct{}, 1), status: Status{Online: true}, pageSize: cfg.PageSize}
}

// NewAuditTable returns the index of audit events (newest first by "at").
func NewAuditTable() *index.Table[domain.AuditEvent] {
	return index.New(index.Spec[domain.AuditEvent]{
		ID: func(e *domain.AuditEvent) string { return e.ID },
		Text: func(e *domain.AuditEvent) string {
			t := e.Actor.Email + "\n" + e.Actor.Name + "\n" + e.Action + "\n" + e.Reason + "\n" + e.TargetLabel
			if e.TargetUser != nil {
				t += "\n" + e.TargetUser.Email + "\n" + e.TargetUser.Name
			}
			return t
		},
		Sorts: map[string]func(*domain.AuditEvent) index.Key{
			"at": func(e *domain.AuditEvent) index.Key { return index.Key{Num: e.At.UnixNano()} },
		},
	})
}

// Trigger asks the running loop for a sync soon (after an action).
func (s *Syncer) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run syncs now and then on every interval or trigger until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	stop := func() {
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
	var err error
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.trigger:
			stop()
		case <-s.rescheduled:
			// The interval shrank (the event stream broke): the next sync
			// comes after the new interval, not the long one still running.
			stop()
			timer.Reset(s.nextWait(err))
			continue
		}
		_, err = s.SyncNow(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Info("sync did not complete", "err", err)
		}
		timer.Reset(s.nextWait(err))
	}
}

// resumeSoon is the wait before resuming a sync that a broken answer
// interrupted half way (the platform is there; the link dropped a page).
const resumeSoon = 2 * time.Second

// nextWait is the time until the loop's next sync: the interval, or until
// the platform's Retry-After has passed, or soon when a sync broke off with
// pages to resume.
func (s *Syncer) nextWait(err error) time.Duration {
	s.runMu.Lock()
	retryAt, resumable := s.retryAt, s.pending != nil
	s.runMu.Unlock()
	s.mu.Lock()
	wait := s.cfg.Interval // SetInterval changes it under mu
	s.mu.Unlock()
	if d := retryAt.Sub(s.cfg.Clock()); d > wait {
		wait = d
	} else if err != nil && resumable && domain.Answered(err) && domain.KindOf(err) == "" && wait > resumeSoon {
		// A broken answer, not a busy platform: resume soon.
		wait = resumeSoon
	}
	return wait
}

// SetInterval changes the time between background syncs from the next one
// on (a long safety net while the event stream is live; 0 restores the
// configured interval).
func (s *Syncer) SetInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = s.base
	}
	shorter := d < s.cfg.Interval
	s.cfg.Interval = d
	if shorter {
		select {
		case s.rescheduled <- struct{}{}:
		default:
		}
	}
}

// SyncNow runs one sync and returns the resulting status.
func (s *Syncer) SyncNow(ctx context.Context) (Status, error) {
	return s.sync(ctx, false)
}

// CatchUp runs a sync for the live source: a delta, or (full) a full one.
func (s *Syncer) CatchUp(ctx context.Context, full bool) error {
	_, err := s.sync(ctx, full)
	return err
}

// SyncFull runs a full sync whatever the cache holds (the event stream's
// "reset": changes were missed that no delta can be trusted to bring).
func (s *Syncer) SyncFull(ctx context.Context) (Status, error) {
	return s.sync(ctx, true)
}

func (s *Syncer) sync(ctx context.Context, forceFull bool) (Status, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	now := s.cfg.Clock().UTC()
	var err error
	if s.retryAt.After(now) {
		// The platform asked us to wait: send nothing before then.
		err = &busyError{until: s.retryAt}
	} else {
		err = s.syncOnce(ctx, forceFull)
		now = s.cfg.Clock().UTC()
		s.retryAt = time.Time{}
		if d, ok := domain.RetryAfterOf(err); ok {
			s.retryAt = now.Add(d)
		}
	}
	retryAt := s.retryAt
	s.setStatus(func(st *Status) {
		st.Syncing, st.Phase, st.Done, st.Total = false, "", 0, 0
		st.RetryAt = nil
		st.ClockOffsetMS = s.cfg.ServerNow().Sub(s.cfg.Clock()).Milliseconds()
		var busy *busyError
		switch {
		case err == nil:
			st.Online, st.LastError = true, ""
			st.LastSyncAt = &now
		case !retryAt.IsZero():
			// Busy is not offline: the platform answered.
			t := retryAt
			st.Online, st.RetryAt = true, &t
			st.LastError = s.problemText(Busy, retryAt.Sub(now), err)
		case errors.As(err, &busy):
		case domain.KindOf(err) == domain.KindUnavailable || domain.KindOf(err) == domain.KindRateLimited:
			st.Online, st.LastError = true, s.problemText(BusyNoWait, 0, err)
		case domain.Answered(err):
			st.Online, st.LastError = true, s.problemText(BrokeOff, 0, err)
		case domain.IsUnreachable(err):
			st.Online, st.LastError = false, s.problemText(Unreachable, 0, err)
		case ctx.Err() != nil:
		default:
			st.Online, st.LastError = true, s.problemText(Failed, 0, err)
		}
	})
	if err != nil && domain.IsUnauthenticated(err) && s.cfg.Listener != nil {
		s.cfg.Listener.Unauthenticated(err)
	}
	return s.Status(), err
}

func (s *Syncer) syncOnce(ctx context.Context, forceFull bool) error {
	st, err := s.cfg.Store.State(ctx)
	if err != nil {
		return err
	}
	if forceFull {
		st.SessionsMark, st.DevicesMark = time.Time{}, time.Time{}
	}
	full := forceFull || st.SessionsMark.IsZero() && st.DevicesMark.IsZero() && st.SnapshotAt.IsZero()
	if full && s.cfg.Growing != nil {
		s.cfg.Growing()
	}
	// Full or delta, read the change feed (every status, oldest change
	// first, keyset-paged on updated_at and id; a full sync starts at the
	// epoch). A row changed while a long full sync pages then comes back at
	// the end of the walk, instead of staying stale behind a watermark that
	// later pages push past its change.
	pend := s.pending
	if pend == nil || pend.from != st {
		if pend, err = s.newPending(ctx, st); err != nil {
			return err
		}
	} else {
		s.cfg.Log.Info("resuming an interrupted sync", "sessions", len(pend.sessions.items), "devices", len(pend.devices.items),
			"audit", len(pend.audit.items)+len(pend.auditGap.items))
	}
	s.pending = pend
	s.progress("sessions", len(pend.sessions.items))
	if err := walkFeed(ctx, s, &pend.sessions, feed[domain.Session]{phase: "sessions", intern: pend.in.Sessions,
		list: pagesOf(s.cfg.Source.Sessions, since(st.SessionsMark))}); err != nil {
		return err
	}
	s.progress("devices", len(pend.devices.items))
	if err := walkFeed(ctx, s, &pend.devices, feed[domain.Device]{phase: "devices", intern: pend.in.Devices,
		list: pagesOf(s.cfg.Source.Devices, since(st.DevicesMark))}); err != nil {
		return err
	}

	// Audit: newest first, no delta feed; read until a known event (see
	// syncAudit).
	s.progress("audit", len(pend.audit.items)+len(pend.auditGap.items))
	if err := s.syncAudit(ctx, pend); err != nil {
		return err
	}
	snap := cache.Snapshot{Full: full, Complete: true, Sessions: pend.sessions.items, Devices: pend.devices.items,
		Audit: slices.Concat(pend.audit.items, pend.auditGap.items), AuditResume: pend.auditResume()}
	if err := s.applyDelta(ctx, st, snap); err != nil {
		return err
	}
	s.pending = nil // the walk's pages and interner are garbage from here
	if full {
		s.release(s.warm())
	}
	return nil
}

// newPending starts a sync from cache state st: every walk at its start,
// the audit log's gap walk at the first stored resume cursor.
func (s *Syncer) newPending(ctx context.Context, st cache.State) (*pending, error) {
	resume, err := s.cfg.Store.AuditResume(ctx)
	if err != nil {
		return nil, err
	}
	pend := &pending{from: st, in: domain.NewInterner()}
	if len(resume) > 0 {
		pend.auditGap.cursor, pend.auditRest = resume[0], resume[1:]
	} else {
		pend.auditGap.done = true
	}
	return pend, nil
}
