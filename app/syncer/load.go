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
	sess, err := s.cfg.Store.Sessions(ctx)
	s.cfg.Sessions.Adopt(sess)
	var devs []domain.Device
	var aud []domain.AuditEvent
	if err == nil {
		devs, aud, err = s.readRest(ctx)
	}
	s.cfg.Devices.Adopt(devs)
	s.cfg.Audit.Adopt(aud)
	var warmed <-chan struct{}
	if len(sess) > 0 {
		warmed = s.warm()
	}
	if err == nil {
		err = s.cfg.Store.Verify(ctx)
	}
	if len(sess)+len(devs)+len(aud) > 0 {
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
		if sess == nil {
			s.status.LastSyncAt = nil
		}
		s.mu.Unlock()
	default:
		s.cfg.Log.Warn("offline cache not loaded", "err", err)
	}
	return err
}

// readRest decrypts every cached device and audit event; on an error it
// returns none.
func (s *Syncer) readRest(ctx context.Context) ([]domain.Device, []domain.AuditEvent, error) {
	devs, err := s.cfg.Store.Devices(ctx)
	if err != nil {
		return nil, nil, err
	}
	aud, err := s.cfg.Store.Audit(ctx)
	if err != nil {
		return nil, nil, err
	}
	return devs, aud, nil
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
