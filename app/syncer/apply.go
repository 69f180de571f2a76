package syncer

import (
	"context"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider"
)

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
		// The gathered rows are the sync's own (the pending walk is
		// dropped once applied): the index takes them without a copy,
		// another 272 bytes per session at the peak of a full sync.
		s.cfg.Sessions.Adopt(snap.Sessions)
		s.cfg.Devices.Adopt(snap.Devices)
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
	if !full && len(snap.Sessions) > 0 {
		s.warm() // a full sync's is started by syncOnce, with the release
	}
	s.announce(ctx, applied.NewDevices)
	return nil
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
