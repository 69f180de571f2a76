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
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

// Status is the sync state shown to the user.
type Status struct {
	Online     bool       `json:"online"`
	Syncing    bool       `json:"syncing"`
	LastSyncAt *time.Time `json:"lastSyncAt"`
	LastError  string     `json:"lastError"`
	Phase      string     `json:"phase"`
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	// Live is set while the platform's event stream is held (a provider's live source, see provider.Provider.Watch);
	// LastEventAt is when its last change arrived. LiveNote says why
	// changes are polled instead, when the stream cannot be held.
	Live        bool       `json:"live"`
	LastEventAt *time.Time `json:"lastEventAt"`
	LiveNote    string     `json:"liveNote"`
	// RetryAt is when the platform said it may be asked again (after a 429
	// or 503 with Retry-After); nil when it did not ask to wait.
	RetryAt *time.Time `json:"retryAt"`
	// ClockOffsetMS is the platform's clock minus this computer's, so that
	// the UI shows times ("expires in 2 h") on the platform's clock.
	ClockOffsetMS int64 `json:"clockOffsetMs"`
	// IntervalSeconds is the time between background syncs now: what the
	// status says ("checking every 30 s") when changes are polled.
	IntervalSeconds int `json:"intervalSeconds"`
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
	// CacheNotice tells the user that cached data was lost and why (a
	// damaged file found after loading); nil: only logged.
	CacheNotice func(string)
	Log         *slog.Logger
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

// auditProbe is the size of a sync's first audit request.
const auditProbe = 20

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

// Load starts filling the indexes from the cache and returns without
// waiting for it: decrypting 100,000 sessions takes longer than the first
// screen may. Until the rows are in, the sessions table answers its default
// views from SQL over the cache's clear columns (decrypting only the window,
// see cache.Store.SessionWindow) and other reads wait. Syncs and local
// applies wait for the load (they share the sync lock). Then the file's full
// structural check runs; a damaged file (or rows that do not open) is moved
// aside and rebuilt, and the next sync is a full one.
func (s *Syncer) Load(ctx context.Context) error {
	st, err := s.cfg.Store.State(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if !st.SnapshotAt.IsZero() {
		t := st.SnapshotAt
		s.status.LastSyncAt = &t
	}
	s.mu.Unlock()
	s.cfg.Sessions.BeginLoad(s.sessionWindow)
	s.cfg.Devices.BeginLoad(nil)
	s.cfg.Audit.BeginLoad(nil)
	s.runMu.Lock()
	done := make(chan struct{})
	s.loaded = done
	go func() {
		defer s.runMu.Unlock()
		defer close(done)
		s.loadErr = s.load(context.WithoutCancel(ctx))
	}()
	return nil
}

// WaitLoaded waits until Load's rows are in the indexes and returns what
// went wrong, if anything (the indexes are then empty and the cache reset).
func (s *Syncer) WaitLoaded(ctx context.Context) error {
	if s.loaded == nil {
		return nil
	}
	select {
	case <-s.loaded:
		return s.loadErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Syncer) load(ctx context.Context) error {
	var (
		sess []domain.Session
		devs []domain.Device
		aud  []domain.AuditEvent
	)
	err := func() error {
		var err error
		if sess, err = s.cfg.Store.Sessions(ctx); err != nil {
			return err
		}
		if devs, err = s.cfg.Store.Devices(ctx); err != nil {
			return err
		}
		aud, err = s.cfg.Store.Audit(ctx)
		return err
	}()
	if err != nil {
		sess, devs, aud = nil, nil, nil
	} else {
		// Rows that opened are good to show even if the file turns out
		// damaged elsewhere; the rebuilt file then gets a full sync.
		err = s.cfg.Store.Verify(ctx)
	}
	switch {
	case err == nil:
	case cache.IsClosed(err):
		err = nil // the workspace closed while loading
	case cache.IsDamaged(err):
		s.cfg.Log.Warn("offline cache damaged", "err", err)
		notice, rerr := s.cfg.Store.Rebuild(ctx)
		if rerr != nil {
			s.cfg.Log.Error("offline cache not rebuilt", "err", rerr)
			notice = "The offline cache is damaged: " + rerr.Error()
		}
		// Told through its own channel: a sync status line would be
		// overwritten by the next sync within seconds.
		if s.cfg.CacheNotice != nil {
			s.cfg.CacheNotice(notice)
		}
		s.mu.Lock()
		if sess == nil {
			s.status.LastSyncAt = nil
		}
		s.mu.Unlock()
	default:
		s.cfg.Log.Warn("offline cache not loaded", "err", err)
	}
	s.cfg.Sessions.Adopt(sess)
	s.cfg.Devices.Adopt(devs)
	s.cfg.Audit.Adopt(aud)
	if len(sess) > 0 {
		go s.cfg.Sessions.Warm(index.DefaultSessionSort)
	}
	return err
}

// sessionWindow answers the sessions list from SQL while the index loads:
// no search, a filter the cache understands and a sort on a clear column.
func (s *Syncer) sessionWindow(q index.Query[domain.Session]) (index.Result[domain.Session], bool) {
	var f cache.SessionFilter
	switch c := q.Clear.(type) {
	case cache.SessionFilter:
		f = c
	case nil:
		if q.KeepFacet != nil {
			return index.Result[domain.Session]{}, false
		}
	default:
		return index.Result[domain.Session]{}, false
	}
	if strings.TrimSpace(q.Search) != "" || q.Keep != nil || !cache.WindowSorts[q.Sort] {
		return index.Result[domain.Session]{}, false
	}
	items, total, err := s.cfg.Store.SessionWindow(context.Background(), f, q.Sort, q.Desc, q.Offset, q.Limit)
	if err != nil {
		s.cfg.Log.Info("sessions window not answered from the cache; waiting for the index", "err", err)
		return index.Result[domain.Session]{}, false
	}
	if items == nil {
		items = []domain.Session{}
	}
	return index.Result[domain.Session]{Items: items, Total: total}, true
}

// Status returns the current sync state.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.IntervalSeconds = int(s.cfg.Interval / time.Second)
	return st
}

func (s *Syncer) setStatus(fn func(*Status)) {
	s.mu.Lock()
	fn(&s.status)
	st := s.status
	st.IntervalSeconds = int(s.cfg.Interval / time.Second)
	s.mu.Unlock()
	if s.cfg.Listener != nil {
		s.cfg.Listener.Status(st)
	}
}

// SetOnline records reachability learned elsewhere (e.g. a failed action).
func (s *Syncer) SetOnline(online bool, why string) {
	s.setStatus(func(st *Status) {
		st.Online = online
		if !online {
			st.LastError = why
		}
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

// SetLive records the state of the event stream for the sync status.
// A stream held again while the last sync failed (the platform was away and
// is back) asks for a sync at once: only a sync that succeeds clears
// LastError, and on the long live interval the header would show "Live"
// beside "Last sync failed" for minutes.
func (s *Syncer) SetLive(live bool, note string) {
	var retry bool
	s.setStatus(func(st *Status) {
		retry = live && !st.Live && st.LastError != ""
		st.Live, st.LiveNote = live, note
	})
	if retry {
		s.Trigger()
	}
}

// The syncer is its provider's live target (provider.LiveTarget).
var _ provider.LiveTarget = (*Syncer)(nil)

// ApplyChanges applies live events exactly as a delta sync applies its
// pages (applyDelta), and stores eventID, the id of the last of them, as
// the stream's resume token in the same cache transaction.
func (s *Syncer) ApplyChanges(ctx context.Context, ch domain.Changes, eventID string) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	st, err := s.cfg.Store.State(ctx)
	if err != nil {
		return err
	}
	var audit []domain.AuditEvent
	for _, e := range ch.Audit {
		if _, known := s.cfg.Audit.Get(e.ID); !known {
			audit = append(audit, e)
		}
	}
	snap := cache.Snapshot{Sessions: ch.Sessions, Devices: ch.Devices, Audit: audit, EventID: &eventID}
	if err := s.applyDelta(ctx, st, snap); err != nil {
		return err
	}
	if len(ch.Sessions)+len(ch.Devices)+len(ch.Audit) > 0 {
		now := s.cfg.Clock().UTC()
		s.setStatus(func(st *Status) { st.LastEventAt, st.Online = &now, true })
	}
	return nil
}

// ResumeToken is the stored resume token of the event stream ("" none).
func (s *Syncer) ResumeToken(ctx context.Context) (string, error) {
	st, err := s.cfg.Store.State(ctx)
	return st.EventID, err
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
			st.LastError = busyMessage(retryAt.Sub(now))
		case errors.As(err, &busy):
		case domain.KindOf(err) == domain.KindUnavailable || domain.KindOf(err) == domain.KindRateLimited:
			st.Online, st.LastError = true, "Platform busy — the next sync tries again."
		case domain.Answered(err):
			st.Online, st.LastError = true, "The connection to the platform broke off while receiving data; the sync resumes where it stopped."
		case domain.IsUnreachable(err):
			st.Online, st.LastError = false, "The platform cannot be reached."
		case ctx.Err() != nil:
		default:
			st.Online, st.LastError = true, errMessage(err)
		}
	})
	if err != nil && domain.IsUnauthenticated(err) && s.cfg.Listener != nil {
		s.cfg.Listener.Unauthenticated(err)
	}
	return s.Status(), err
}

// busyError is a sync not sent because the platform asked to wait.
type busyError struct{ until time.Time }

func (e *busyError) Error() string {
	return "sync: the platform asked to wait until " + e.until.Format(time.RFC3339)
}

// busyMessage says how long the app waits, in the unit a person reads:
// "Platform busy — retrying in 2 min".
func busyMessage(d time.Duration) string {
	if d < 90*time.Second {
		return fmt.Sprintf("Platform busy — retrying in %d s", int(max(1, (d+time.Second/2)/time.Second)))
	}
	return fmt.Sprintf("Platform busy — retrying in %d min", int((d+30*time.Second)/time.Minute))
}

func errMessage(err error) string {
	var pe *domain.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

func (s *Syncer) progress(phase string, done int) {
	s.setStatus(func(st *Status) { st.Syncing, st.Phase, st.Done = true, phase, done })
}

// pending is a sync that broke off half way: the pages it gathered and
// where each walk goes on. It is resumed only from the same cache state.
type pending struct {
	from     cache.State
	sessions feedWalk[domain.Session]
	devices  feedWalk[domain.Device]
	// The audit log is walked from the newest event down (audit) and from
	// the first stored resume cursor down (auditGap, done at once when
	// there is none); auditRest are the other stored cursors, kept as they
	// are (see syncAudit).
	audit     feedWalk[domain.AuditEvent]
	auditGap  feedWalk[domain.AuditEvent]
	auditRest []string
}

// feedWalk is one list read page by page: the rows so far, the cursor
// after the last good page and how many pages that took. It is done when
// the list ended or a stop row was met; a walk that ran out of its page
// budget is not done, and its cursor is where a later sync goes on.
type feedWalk[T any] struct {
	items  []T
	cursor string
	pages  int
	done   bool
}

// feed is how a list is walked (see walkFeed).
type feed[T any] struct {
	phase string
	list  func(ctx context.Context, limit int, cursor string) ([]T, string, error)
	// maxLimit, when not 0, caps the page size the link allows.
	maxLimit int
	// probe, when not 0, is the size of the walk's first page, which does
	// not count towards budget.
	probe int
	// budget, when not 0, is how many pages the walk reads.
	budget int
	// stop, when set, ends the walk at the first row it holds true for;
	// that row and the rest of its page are not kept.
	stop func(T) bool
}

// Page sizes the link adapts between (see the package comment).
const (
	minPage   = 50
	slowPage  = 2 * time.Second
	quickPage = 500 * time.Millisecond
)

// PageSize is the page size the next sync asks for, as adapted to the link.
func (s *Syncer) PageSize() int {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.pageSize
}

// adapt learns from one page: how long it took, and whether it was full.
// Only a page of the adapted size grows it: a quick page asked smaller (the
// audit log's probe, or its pages capped at 200) says nothing about room
// for more.
func (s *Syncer) adapt(took time.Duration, rows int, asked int) {
	switch {
	case took > slowPage && s.pageSize > minPage:
		s.pageSize = max(minPage, s.pageSize/2)
		s.cfg.Log.Info("slow link: smaller pages", "page_size", s.pageSize, "took", took)
	case took < quickPage && rows >= asked && asked >= s.pageSize && s.pageSize < s.cfg.PageSize:
		s.pageSize = min(s.cfg.PageSize, s.pageSize*2)
	}
}

// walkFeed reads a list from where w stopped until its end, a stop row or
// its page budget. A page that fails leaves w at the last good cursor, so
// that the next sync asks for no page it already has; one that failed on a
// time limit also halves the page size, so the resumed walk asks for less.
func walkFeed[T any](ctx context.Context, s *Syncer, w *feedWalk[T], f feed[T]) error {
	budget := f.budget
	if budget > 0 && f.probe > 0 {
		budget++
	}
	for !w.done && (budget == 0 || w.pages < budget) {
		limit := s.pageSize
		if f.maxLimit > 0 {
			limit = min(limit, f.maxLimit)
		}
		if f.probe > 0 && w.pages == 0 {
			limit = min(limit, f.probe)
		}
		start := time.Now()
		items, next, err := f.list(ctx, limit, w.cursor)
		if err != nil {
			if domain.Answered(err) || domain.IsUnreachable(err) {
				// Never below the configured size: that is the most a
				// page may hold.
				s.pageSize = max(min(minPage, s.cfg.PageSize), s.pageSize/2)
			}
			return fmt.Errorf("sync %s: %w", f.phase, err)
		}
		s.adapt(time.Since(start), len(items), limit)
		w.pages++
		for i, it := range items {
			if f.stop != nil && f.stop(it) {
				items, w.done = items[:i], true
				break
			}
		}
		w.items = append(w.items, items...)
		s.progress(f.phase, len(w.items))
		if next == "" || len(items) == 0 {
			w.done = true
		} else if !w.done {
			w.cursor = next
		}
	}
	return nil
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
	if err := walkFeed(ctx, s, &pend.sessions, feed[domain.Session]{phase: "sessions",
		list: func(ctx context.Context, limit int, cursor string) ([]domain.Session, string, error) {
			page, err := s.cfg.Source.Sessions(ctx, domain.PageRequest{Limit: limit, Cursor: cursor, Since: since(st.SessionsMark)})
			return page.Items, page.Next, err
		}}); err != nil {
		return err
	}
	s.progress("devices", len(pend.devices.items))
	if err := walkFeed(ctx, s, &pend.devices, feed[domain.Device]{phase: "devices",
		list: func(ctx context.Context, limit int, cursor string) ([]domain.Device, string, error) {
			page, err := s.cfg.Source.Devices(ctx, domain.PageRequest{Limit: limit, Cursor: cursor, Since: since(st.DevicesMark)})
			return page.Items, page.Next, err
		}}); err != nil {
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
	s.pending = nil
	return nil
}

// newPending starts a sync from cache state st: every walk at its start,
// the audit log's gap walk at the first stored resume cursor.
func (s *Syncer) newPending(ctx context.Context, st cache.State) (*pending, error) {
	resume, err := s.cfg.Store.AuditResume(ctx)
	if err != nil {
		return nil, err
	}
	pend := &pending{from: st}
	if len(resume) > 0 {
		pend.auditGap.cursor, pend.auditRest = resume[0], resume[1:]
	} else {
		pend.auditGap.done = true
	}
	return pend, nil
}

// applyDelta stores what a sync or a live event brought home since state st
// — in the cache (one transaction, new devices recorded as seen) and in the
// indexes — tells the listener which domains changed and announces new
// devices: the one way rows from the platform enter the app. The rows may
// hold one row several times (a row changed during the walk is in the feed
// twice) and rows already held (the overlap); snap.Full replaces everything
// held instead. The caller holds runMu.
func (s *Syncer) applyDelta(ctx context.Context, st cache.State, snap cache.Snapshot) error {
	full := snap.Full
	// A row changed during the walk is in the feed twice: the later copy wins.
	snap.Sessions = latest(snap.Sessions, func(x domain.Session) string { return x.ID })
	snap.Devices = latest(snap.Devices, func(x domain.Device) string { return x.ID })
	snap.SessionsMark = markOf(st.SessionsMark, snap.Sessions, func(x domain.Session) time.Time { return x.UpdatedAt })
	snap.DevicesMark = markOf(st.DevicesMark, snap.Devices, func(x domain.Device) time.Time { return x.UpdatedAt })
	if !full {
		// The overlap brings back rows we hold already; they are not changes.
		snap.Sessions = fresh(s.cfg.Sessions, snap.Sessions, func(x domain.Session) string { return x.ID }, func(x domain.Session) time.Time { return x.UpdatedAt })
		snap.Devices = fresh(s.cfg.Devices, snap.Devices, func(x domain.Device) string { return x.ID }, func(x domain.Device) time.Time { return x.UpdatedAt })
	}
	if snap.ServerNow.IsZero() {
		snap.ServerNow = s.cfg.ServerNow()
	}

	if snap.Complete {
		s.progress("saving", len(snap.Sessions)+len(snap.Devices))
	}
	applied, err := s.cfg.Store.Apply(ctx, snap)
	if err != nil {
		return err
	}

	if full {
		s.cfg.Sessions.Replace(snap.Sessions)
		s.cfg.Devices.Replace(snap.Devices)
	} else {
		s.cfg.Sessions.Upsert(snap.Sessions)
		s.cfg.Devices.Upsert(snap.Devices)
	}
	s.cfg.Audit.Upsert(snap.Audit)
	if s.cfg.Listener != nil {
		if full || len(snap.Sessions) > 0 {
			s.cfg.Listener.Changed("sessions")
		}
		if full || len(snap.Devices) > 0 {
			s.cfg.Listener.Changed("devices")
		}
		if len(snap.Audit) > 0 {
			s.cfg.Listener.Changed("audit")
		}
	}
	if full || len(snap.Sessions) > 0 {
		go s.cfg.Sessions.Warm(index.DefaultSessionSort)
	}
	s.announce(ctx, applied.NewDevices)
	return nil
}

// syncAudit reads into pend the audit events newer than those held, going
// on from where an interrupted sync stopped, like the feeds (walkFeed).
//
// The log is newest first, without a delta feed: a sync reads from the
// newest event down to one already held. The first request is a small
// probe: in the usual sync nothing happened, its first event is known, and
// 200 events fetched and decoded every 30 s would be waste. It does not
// count towards AuditPages. When AuditPages runs out before a held event,
// the end of the log or the retention limit is reached (a burst of events
// during a long offline gap), the position is kept as a resume cursor in
// the cache, with the data, and the next syncs read on from there, one
// stretch per sync, until the gap is closed: stopping for good at the newest
// known event would leave a permanent hole in the log.
//
// A walk resumed after a broken page misses nothing: the log is keyset
// paged, so its cursor still points below the events read, and events
// written meanwhile are above the newest one read, which the next sync's
// probe reaches down to.
func (s *Syncer) syncAudit(ctx context.Context, pend *pending) error {
	cutoff := s.cfg.ServerNow().Add(-s.cfg.Store.Retention())
	f := feed[domain.AuditEvent]{phase: "audit", maxLimit: 200, budget: s.cfg.AuditPages,
		list: func(ctx context.Context, limit int, cursor string) ([]domain.AuditEvent, string, error) {
			page, err := s.cfg.Source.Audit(ctx, domain.PageRequest{Limit: limit, Cursor: cursor})
			return page.Items, page.Next, err
		},
		stop: func(e domain.AuditEvent) bool {
			_, known := s.cfg.Audit.Get(e.ID)
			return known || e.At.Before(cutoff)
		}}
	head := f
	head.probe = auditProbe
	if err := walkFeed(ctx, s, &pend.audit, head); err != nil {
		return err
	}
	return walkFeed(ctx, s, &pend.auditGap, f)
}

// auditResume is the audit log's resume cursors after pend's walks: where
// each ran out of its page budget, then the stored cursors not walked.
func (p *pending) auditResume() *[]string {
	keep := []string{}
	for _, w := range []*feedWalk[domain.AuditEvent]{&p.audit, &p.auditGap} {
		if !w.done {
			keep = append(keep, w.cursor)
		}
	}
	keep = append(keep, p.auditRest...)
	return &keep
}

// announce notifies each new device, or all of them in one summary when
// they are more than MaxSeparateNotifications. Failures are logged only: the
// device is already recorded as seen, and announcing it twice is worse than
// missing a bubble on a desktop without a notification service.
func (s *Syncer) announce(ctx context.Context, devices []domain.Device) {
	if s.cfg.Notifier == nil || len(devices) == 0 {
		return
	}
	if len(devices) > MaxSeparateNotifications {
		if err := s.cfg.Notifier.NewDevices(ctx, devices); err != nil {
			s.cfg.Log.Warn("new-devices summary notification not shown", "devices", len(devices), "err", err)
		}
		return
	}
	for _, d := range devices {
		where := s.locationOf(d.ID)
		if err := s.cfg.Notifier.NewDevice(ctx, d, where); err != nil {
			s.cfg.Log.Warn("new-device notification not shown", "device_id", d.ID, "err", err)
		}
	}
}

// locationOf finds the location of the newest session of the device.
func (s *Syncer) locationOf(deviceID string) string {
	var loc string
	var at time.Time
	for _, x := range s.cfg.Sessions.All() {
		if x.DeviceID != nil && *x.DeviceID == deviceID && x.Location != "" && x.CreatedAt.After(at) {
			loc, at = x.Location, x.CreatedAt
		}
	}
	return loc
}

// ApplyLocal stores the platform's answer to an action at once, so the UI
// shows it before the follow-up sync.
func (s *Syncer) ApplyLocal(ctx context.Context, sessions []domain.Session, devices []domain.Device) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if _, err := s.cfg.Store.Apply(ctx, cache.Snapshot{Sessions: sessions, Devices: devices}); err != nil {
		return err
	}
	if s.cfg.Sessions.Upsert(sessions) && s.cfg.Listener != nil {
		s.cfg.Listener.Changed("sessions")
	}
	if s.cfg.Devices.Upsert(devices) && s.cfg.Listener != nil {
		s.cfg.Listener.Changed("devices")
	}
	return nil
}

func since(mark time.Time) time.Time {
	if mark.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return mark.Add(-overlap)
}

func markOf[T any](old time.Time, items []T, at func(T) time.Time) time.Time {
	m := old
	for _, it := range items {
		if t := at(it); t.After(m) {
			m = t
		}
	}
	return m
}

// fresh drops the rows the index already holds at the same or a later
// updated_at.
func fresh[T any](have *index.Table[T], items []T, id func(T) string, at func(T) time.Time) []T {
	out := items[:0:0]
	for _, it := range items {
		// Not newer than held: a repeat, or (a live event after a sync
		// that read a later state) an older state.
		if old, ok := have.Get(id(it)); ok && !at(it).After(at(old)) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// latest keeps one row per id, the last one read (the feed is oldest change
// first), in the order of those last copies.
func latest[T any](items []T, id func(T) string) []T {
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[id(it)] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]T, 0, len(last))
	for i, it := range items {
		if last[id(it)] == i {
			out = append(out, it)
		}
	}
	return out
}
