package desk

import (
	"context"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/syncer"
)

// MaxWindow bounds one List answer: the UI asks for what it shows.
const MaxWindow = 1000

// SessionQuery is a window of the sessions list.
type SessionQuery struct {
	Search string
	Status string // "active" (default) | "all" | "expired" | "terminated"
	Sort   string
	Desc   bool
	Offset int
	Limit  int
	// Filters (v1.1), combinable with each other, the search and the sort;
	// see sessionFilter. Empty values do not filter.
	UserID   string
	MFA      string // "yes" | "no"
	Country  string // country code ("DE"); "-" for sessions without a place
	Platform string // OS part of the client ("Windows"); "-" for unknown
	Browser  string // browser part of the client ("Firefox")
	// CreatedFrom/CreatedTo (Unix milliseconds) keep sessions created in
	// [from, to): the Overview's sign-ins bars link here.
	CreatedFrom int64
	CreatedTo   int64
}

// SessionPage is a window of sessions with the list's totals.
type SessionPage struct {
	Items       []domain.Session
	Total       int // rows matching the query
	ActiveCount int // active sessions in the whole cached list
	Offline     bool
	SnapshotAt  *time.Time
}

// ListSessions answers from the in-memory index; see package index. Right
// after the cache is opened, while the index is still being filled, the
// default views (no search, a sort on a clear column) come from SQL over the
// cache's clear columns instead, with the same rows in the same order (see
// syncer.Load and cache.Store.SessionWindow).
func (w *Workspace) ListSessions(q SessionQuery) (SessionPage, error) {
	// Expiry is judged on the platform's clock (from its Date headers),
	// not the workstation's, which may be hours off; and at the second,
	// the instant sessionFilter judges "active" at, so that the filter,
	// each row's status and the active count agree (a row listed as
	// active could otherwise be marked expired).
	now := w.prov.Now().Truncate(time.Second)
	iq, err := sessionFilter(q, now)
	if err != nil {
		return SessionPage{}, err
	}
	iq.Search, iq.Sort, iq.Desc, iq.Offset, iq.Limit = q.Search, q.Sort, q.Desc, q.Offset, window(q.Limit)
	if q.Sort == "" {
		iq.Sort, iq.Desc = index.DefaultSessionSort, true
	}
	res := w.findSessions(iq, now)
	nowNano := now.UnixNano()
	page := SessionPage{Items: res.Items, Total: res.Total, ActiveCount: -1}
	if !w.sessions.Ready() {
		// The index is still being filled from the cache: count in SQL.
		if n, err := w.store.CountSessions(context.Background(), cache.SessionFilter{ActiveAt: nowNano}); err == nil {
			page.ActiveCount = n
		}
	}
	if page.ActiveCount < 0 {
		page.ActiveCount = index.CountActive(w.sessions, nowNano)
	}
	page.Offline, page.SnapshotAt = w.freshness()
	return page, nil
}

// EachSession calls fn with every session matching q (not only a window),
// in q's order, marked as findSessions marks them; it stops at fn's first
// error. For an export and "select all N matching": one row at a time, not
// a copy of every match (a million sessions).
func (w *Workspace) EachSession(q SessionQuery, fn func(domain.Session) error) error {
	// Expiry is judged on the platform's clock (from its Date headers),
	// not the workstation's, which may be hours off.
	now := w.prov.Now()
	iq, err := walkQuery(q, now)
	if err != nil {
		return err
	}
	// The walk must not leave its result as the remembered query (its
	// FilterKey does not carry the time).
	defer w.sessions.Forget()
	ownID := w.Me().SessionID
	return w.sessions.Each(iq, index.DefaultSessionSort, func(s domain.Session) error {
		markSession(&s, now, ownID)
		return fn(s)
	})
}

// walkQuery is the index query of a walk over every session matching q at
// now (an export, "select all N matching"), not of a window.
func walkQuery(q SessionQuery, now time.Time) (index.Query[domain.Session], error) {
	iq, err := sessionFilter(q, now)
	if err != nil {
		return iq, err
	}
	iq.Search, iq.Sort, iq.Desc, iq.FilterKey = q.Search, q.Sort, q.Desc, "export"
	if q.Sort == "" {
		iq.Sort, iq.Desc = index.DefaultSessionSort, true
	}
	return iq, nil
}

// findSessions runs iq and marks each row with markSession.
func (w *Workspace) findSessions(iq index.Query[domain.Session], now time.Time) index.Result[domain.Session] {
	res := w.sessions.Find(iq, index.DefaultSessionSort)
	ownID := w.Me().SessionID
	for i := range res.Items {
		markSession(&res.Items[i], now, ownID)
	}
	return res
}

// markSession sets s's status at now and whether it is the signed-in
// session: "current" was computed for whichever token fetched the row; the
// signed-in session (ownID) is the one that counts now.
func markSession(s *domain.Session, now time.Time, ownID string) {
	s.Status = index.EffectiveStatus(s, now)
	if ownID != "" {
		s.Current = s.ID == ownID
	}
}

// DeviceQuery is a window of the devices list.
type DeviceQuery struct {
	Search  string
	Trusted string // "all" (default) | "true" | "false"
	Sort    string
	Desc    bool
	Offset  int
	Limit   int
	// Filters (v1.1); empty values do not filter.
	DeviceID string // one device: a session's details link here
	UserID   string
	Platform string
	// FirstSeenHours keeps devices first seen in the last so many hours
	// (24: "first seen in the last 24 h").
	FirstSeenHours int
}

// DevicePage is a window of devices with the list's totals.
type DevicePage struct {
	Items        []domain.Device
	Total        int
	TrustedCount int
	Offline      bool
	SnapshotAt   *time.Time
}

// ListDevices answers from the in-memory index.
func (w *Workspace) ListDevices(q DeviceQuery) (DevicePage, error) {
	iq, err := deviceQuery(q, w.prov.Now())
	if err != nil {
		return DevicePage{}, err
	}
	res := w.devices.Find(iq, index.DefaultDeviceSort)
	page := DevicePage{Items: res.Items, Total: res.Total, TrustedCount: w.devices.CountFacet("trusted", index.TrustedFacet)}
	page.Offline, page.SnapshotAt = w.freshness()
	return page, nil
}

// EachDevice calls fn with every device matching q, in q's order, and
// stops at fn's first error (see EachSession).
func (w *Workspace) EachDevice(q DeviceQuery, fn func(domain.Device) error) error {
	iq, err := deviceQuery(q, w.prov.Now())
	if err != nil {
		return err
	}
	return w.devices.Each(iq, index.DefaultDeviceSort, fn)
}

func deviceQuery(q DeviceQuery, now time.Time) (index.Query[domain.Device], error) {
	iq := index.Query[domain.Device]{Search: q.Search, Sort: q.Sort, Desc: q.Desc, Offset: q.Offset, Limit: window(q.Limit), FilterKey: q.Trusted}
	if q.Sort == "" {
		iq.Sort, iq.Desc = index.DefaultDeviceSort, true
	}
	switch q.Trusted {
	case "", "all":
	case "true":
		iq.KeepFacet = index.TrustedFacet
	case "false":
		iq.KeepFacet = func(f index.Key) bool { return !index.TrustedFacet(f) }
	default:
		return iq, &Error{Code: domain.KindInvalid, Message: "trusted must be all, true or false"}
	}
	return deviceFilters(iq, q, now)
}

// AuditPage is a window of the cached audit log, newest first.
type AuditPage struct {
	Items      []domain.AuditEvent
	Total      int
	Offline    bool
	SnapshotAt *time.Time
}

// ListAudit answers from the cached audit log.
func (w *Workspace) ListAudit(offset, limit int) (AuditPage, error) {
	res := w.audit.Find(index.Query[domain.AuditEvent]{Sort: "at", Desc: true, Offset: offset, Limit: window(limit)}, "at")
	page := AuditPage{Items: res.Items, Total: res.Total}
	page.Offline, page.SnapshotAt = w.freshness()
	return page, nil
}

func window(limit int) int {
	if limit <= 0 {
		return domain.DefaultPage
	}
	return min(limit, MaxWindow)
}

func (w *Workspace) freshness() (offline bool, at *time.Time) {
	st := w.sync.Status()
	return !st.Online, st.LastSyncAt
}

// SyncStatus returns the sync state.
func (w *Workspace) SyncStatus() syncer.Status {
	return w.sync.Status()
}

// SyncNow runs a sync at once.
func (w *Workspace) SyncNow(ctx context.Context) (syncer.Status, error) {
	st, err := w.sync.SyncNow(ctx)
	if err != nil && !platformOffline(err) {
		return st, actionErrorFor(err, wholeAction, w.prof.Provider)
	}
	// Offline is a state, shown in the status, not a failure of the call.
	return st, nil
}
