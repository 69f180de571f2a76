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
	// not the workstation's, which may be hours off.
	now := w.prov.Now()
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
		// Remembered per content version and second, like the filter.
		page.ActiveCount = w.sessions.CountFacet("active@"+now.Truncate(time.Second).Format(time.RFC3339),
			func(f index.Key) bool { return index.ActiveFacet(f, nowNano) })
	}
	page.Offline, page.SnapshotAt = w.freshness()
	return page, nil
}

// AllSessions is every row matching q (not only a window), for export.
func (w *Workspace) AllSessions(q SessionQuery) ([]domain.Session, error) {
	// Expiry is judged on the platform's clock (from its Date headers),
	// not the workstation's, which may be hours off.
	now := w.prov.Now()
	iq, err := sessionFilter(q, now)
	if err != nil {
		return nil, err
	}
	iq.Search, iq.Sort, iq.Desc, iq.Limit, iq.FilterKey = q.Search, q.Sort, q.Desc, w.sessions.Len()+1, "export"
	if q.Sort == "" {
		iq.Sort, iq.Desc = index.DefaultSessionSort, true
	}
	// An export must not leave its result as the remembered query (its
	// FilterKey does not carry the time).
	defer w.sessions.Forget()
	return w.findSessions(iq, now).Items, nil
}

// findSessions runs iq and marks each row with its status at now and
// whether it is the signed-in session.
func (w *Workspace) findSessions(iq index.Query[domain.Session], now time.Time) index.Result[domain.Session] {
	res := w.sessions.Find(iq, index.DefaultSessionSort)
	// "current" was computed for whichever token fetched the row; the
	// signed-in session is the one that counts now.
	ownID := w.Me().SessionID
	for i := range res.Items {
		res.Items[i].Status = index.EffectiveStatus(&res.Items[i], now)
		if ownID != "" {
			res.Items[i].Current = res.Items[i].ID == ownID
		}
	}
	return res
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

// AllDevices is every row matching q, for export.
func (w *Workspace) AllDevices(q DeviceQuery) ([]domain.Device, error) {
	q.Offset, q.Limit = 0, w.devices.Len()+1
	iq, err := deviceQuery(q, w.prov.Now())
	if err != nil {
		return nil, err
	}
	iq.Limit = q.Limit
	return w.devices.Find(iq, index.DefaultDeviceSort).Items, nil
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
