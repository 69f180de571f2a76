package syncer

import (
	"context"
	"strings"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

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
	if s.cfg.Growing != nil {
		s.cfg.Growing()
	}
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
	// The rows that opened go to the indexes before the structural check,
	// which reads every page of the file (a fifth of the load at 100,000
	// sessions): searching waits for the rows, not for the check. Rows
	// that opened are good to show even if the file turns out damaged
	// elsewhere; the rebuilt file then gets a full sync. For the same
	// reason the sessions, what the first screen searches, go in before
	// the devices and the audit log are read.
	nSess, nDev, err := s.cfg.Store.Counts(ctx)
	sess, err := loadTable(ctx, err, s.cfg.Sessions, nSess, s.cfg.Store.EachSession)
	sessLoaded := err == nil
	devs, err := loadTable(ctx, err, s.cfg.Devices, nDev, s.cfg.Store.EachDevice)
	var aud []domain.AuditEvent
	if err == nil {
		aud, err = s.cfg.Store.Audit(ctx)
	}
	s.cfg.Audit.Adopt(aud)
	var warmed <-chan struct{}
	if sess > 0 {
		warmed = s.warm()
	}
	if err == nil {
		err = s.cfg.Store.Verify(ctx)
	}
	if sess+devs+len(aud) > 0 {
		s.release(warmed)
	}
	switch {
	case err == nil:
	case cache.IsClosed(err):
		err = nil // the workspace closed while loading
	case cache.IsDamaged(err):
		s.cfg.Log.Warn("offline cache damaged", "err", err)
		lost, rerr := s.cfg.Store.Rebuild(ctx)
		if rerr != nil {
			s.cfg.Log.Error("offline cache not rebuilt", "err", rerr)
		}
		// Told through its own channel: a sync status line would be
		// overwritten by the next sync within seconds.
		if s.cfg.CacheNotice != nil {
			s.cfg.CacheNotice(lost, rerr)
		}
		s.mu.Lock()
		if !sessLoaded {
			s.status.LastSyncAt = nil
		}
		s.mu.Unlock()
	default:
		s.cfg.Log.Warn("offline cache not loaded", "err", err)
	}
	return err
}

// loadTable streams one kind of cached row into tbl (index.Loader: each
// batch is packed while the next ones are read and decrypted) and returns
// how many there were; about is how many are expected. After an error,
// earlier or its own, tbl is left empty and its load ended all the same.
func loadTable[T any](ctx context.Context, err error, tbl *index.Table[T], about int, each func(context.Context, func([]T)) error) (int, error) {
	if err != nil {
		tbl.Adopt(nil)
		return 0, err
	}
	l, n := tbl.Loader(about), 0
	if err := each(ctx, func(rows []T) { n += len(rows); l.Add(rows) }); err != nil {
		l.Discard()
		return 0, err
	}
	l.Adopt()
	return n, nil
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
