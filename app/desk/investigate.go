package desk

import (
	"context"
	"slices"
	"strings"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/overview"
)

// The investigation workflows (v1.1): a person, a session's details, a
// selection and its termination, the filtered audit log and the overview.
// Reads answer from the in-memory index (so they work offline); actions go
// to the platform.

// MaxSelection bounds the IDs one TerminateSelected call takes from the UI:
// an organization's worth of sessions, sent to the platform in batches of
// domain.MaxSelected. The ids a selection by query leaves out (except) are
// bounded the same way.
const MaxSelection = 1_000_000

// Person is one person as the cache knows them.
type Person struct {
	User           domain.Person
	IsMe           bool
	ActiveSessions int
	Sessions       int // of every status, as cached
	Devices        int
}

// Person finds a user in the cached sessions, devices and audit log.
func (w *Workspace) Person(userID string) (Person, error) {
	p := Person{IsMe: w.Me().User.ID == userID}
	found := false
	nowNano := w.prov.Now().UnixNano()
	for s := range w.sessions.All() {
		if s.User.ID == userID {
			p.User, found = s.User, true
			p.Sessions++
			if s.Status == domain.StatusActive && s.ExpiresAt.UnixNano() > nowNano {
				p.ActiveSessions++
			}
		}
	}
	for dev := range w.devices.All() {
		if dev.User.ID == userID {
			p.User, found = dev.User, true
			p.Devices++
		}
	}
	if !found {
		for e := range w.audit.All() {
			switch {
			case e.TargetUser != nil && e.TargetUser.ID == userID:
				p.User, found = *e.TargetUser, true
			case e.Actor.ID == userID:
				p.User, found = e.Actor, true
			}
			if found {
				break
			}
		}
	}
	if !found {
		return Person{}, &Error{Code: domain.KindNotFound, Message: msgPersonNotCached}
	}
	return p, nil
}

// SessionDetails is everything known about one session.
type SessionDetails struct {
	Session domain.Session
	Device  *domain.Device // nil when the session has none or it is not cached
	// Ended is the audit event that ended the session (nil when it was not
	// ended by an action, or the event is not cached). Bulk ends have no
	// target_id: they list the session in target_ids (v1.2), or, recorded
	// before v1.2, their sessions carry terminated_at equal to the event's at.
	Ended *domain.AuditEvent
}

// SessionDetails returns one cached session with its device and the audit
// event that ended it.
func (w *Workspace) SessionDetails(id string) (SessionDetails, error) {
	s, ok := w.sessions.Get(id)
	if !ok {
		return SessionDetails{}, &Error{Code: domain.KindNotFound, Message: msgSessionNotCached}
	}
	s.Status = index.EffectiveStatus(&s, w.prov.Now())
	s.Current = s.ID == w.Me().SessionID
	out := SessionDetails{Session: s}
	if s.DeviceID != nil {
		if dev, ok := w.devices.Get(*s.DeviceID); ok {
			out.Device = &dev
		}
	}
	if s.TerminatedAt != nil {
		for e := range w.audit.All() {
			byTarget := e.Action == domain.ActionSessionTerminate && e.TargetID != nil && *e.TargetID == s.ID ||
				slices.Contains(e.TargetIDs, s.ID)
			byTime := e.At.Equal(*s.TerminatedAt) && e.Action != domain.ActionSessionTerminate && e.Action != domain.ActionDeviceUntrust
			if byTarget || byTime {
				ended := *e // a copy: the index's rows are shared with every reader
				out.Ended = &ended
				break
			}
		}
	}
	return out, nil
}

// EndedSession is one of the sessions an audited bulk action ended (the
// event's target_ids, v1.2) with what the cache knows of it: its client, IP
// and person while the session is cached (Known), else only its id (ended
// sessions leave the cache with retention; the id stays in the event).
type EndedSession struct {
	ID     string
	Known  bool
	Client string
	IP     string
	User   *domain.Person
}

// EndedSessions lists the sessions the cached audit event eventID ended,
// in the event's order, for the audit log's detail.
func (w *Workspace) EndedSessions(eventID string) ([]EndedSession, error) {
	e, ok := w.audit.Get(eventID)
	if !ok {
		return nil, &Error{Code: domain.KindNotFound, Message: msgEventNotCached}
	}
	return endedSessions(e.TargetIDs, w.sessions.Get), nil
}

// endedSessions labels ids from the sessions lookup knows. The platform
// sends at most domain.MaxTargetIDs; a cache holding more says no more.
func endedSessions(ids []string, lookup func(id string) (domain.Session, bool)) []EndedSession {
	ids = ids[:min(len(ids), domain.MaxTargetIDs)]
	out := make([]EndedSession, len(ids))
	for i, id := range ids {
		out[i].ID = id
		if s, ok := lookup(id); ok {
			u := s.User
			out[i].Known, out[i].Client, out[i].IP, out[i].User = true, s.Client, s.IP, &u
		}
	}
	return out
}

// MaxRange bounds the rows one SessionIDs call answers: a Shift-click range
// of ids. "All matching" is a selection by query (SummarizeMatching,
// TerminateMatching), never a list of ids in the page.
const MaxRange = 10 * MaxWindow

// SessionIDs is the ID of each session in the window [q.Offset,
// q.Offset+q.Limit) of the list q, in q's order: a Shift-click range reaching
// rows the page has not loaded. The window is bounded (MaxRange).
func (w *Workspace) SessionIDs(q SessionQuery) ([]string, error) {
	if q.Offset < 0 || q.Limit <= 0 || q.Limit > MaxRange {
		return nil, errRange()
	}
	now := w.prov.Now()
	iq, err := sessionFilter(q, now)
	if err != nil {
		return nil, err
	}
	// The list's own query, window by window: the index answers it from the
	// result it remembers for the list in view.
	iq.Search, iq.Sort, iq.Desc = q.Search, q.Sort, q.Desc
	if q.Sort == "" {
		iq.Sort, iq.Desc = index.DefaultSessionSort, true
	}
	ids := make([]string, 0, q.Limit)
	end := q.Offset + q.Limit
	for off := q.Offset; off < end; off += MaxWindow {
		iq.Offset, iq.Limit = off, min(MaxWindow, end-off)
		res := w.sessions.Find(iq, index.DefaultSessionSort)
		for _, s := range res.Items {
			ids = append(ids, s.ID)
		}
		if len(res.Items) < iq.Limit {
			break
		}
	}
	return ids, nil
}

// SelectionSummary tells a confirmation dialog what a selection holds.
type SelectionSummary struct {
	Count      int             // distinct IDs
	Active     int             // of them, active sessions (what would end)
	People     []domain.Person // up to 5 people whose active sessions would end, most sessions first
	MorePeople int             // people beyond People
	IncludesMe bool            // the caller's own session is in the selection (it is kept)
}

// SummarizeSelection describes the selected sessions for the dialog.
func (w *Workspace) SummarizeSelection(ids []string) (SelectionSummary, error) {
	if len(ids) > MaxSelection {
		return SelectionSummary{}, &Error{Code: domain.KindInvalid, Message: msgSelectionTooLarge}
	}
	sum := newSummary(w.Me().SessionID, w.prov.Now())
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		status := "" // not cached
		s, ok := w.sessions.Get(id)
		if ok {
			status = index.EffectiveStatus(&s, sum.now)
		}
		sum.add(id, &s, status)
	}
	return sum.result(), nil
}

// SummarizeMatching describes "all N matching" for the dialog: every session
// matching q but those in except (rows unticked by hand), resolved against
// the index now, as TerminateMatching will resolve it.
func (w *Workspace) SummarizeMatching(q SessionQuery, except []string) (SelectionSummary, error) {
	return summarizeMatching(w.sessions, q, except, w.prov.Now(), w.Me().SessionID)
}

// summarizeMatching is SummarizeMatching over the table t at now, own being
// the signed-in session.
func summarizeMatching(t *index.Table[domain.Session], q SessionQuery, except []string, now time.Time, own string) (SelectionSummary, error) {
	sum := newSummary(own, now)
	if err := eachMatching(t, q, except, now, sum.add); err != nil {
		return SelectionSummary{}, err
	}
	return sum.result(), nil
}

// eachMatching calls fn with every session of t matching q whose id is not
// in except (bounded as a selection is: MaxSelection) and its status at
// now, in the order t stores them, not the list's: what it feeds only
// counts or collects, and read front to back a million sessions take a
// fraction of the time. fn gets the index's own row, not a copy (a copy of
// 272 bytes a session, or one moved to the heap when its address reaches
// an unknown function, cost more than the count): it must not write
// through it.
func eachMatching(t *index.Table[domain.Session], q SessionQuery, except []string, now time.Time, fn func(id string, s *domain.Session, status string)) error {
	if len(except) > MaxSelection {
		return &Error{Code: domain.KindInvalid, Message: msgSelectionTooLarge}
	}
	skip := make(map[string]struct{}, len(except))
	for _, id := range except {
		skip[id] = struct{}{}
	}
	iq, err := walkQuery(q, now)
	if err != nil {
		return err
	}
	defer t.Forget() // as in EachSession
	t.EachStored(iq, index.DefaultSessionSort, func(s *domain.Session) bool {
		if _, ok := skip[s.ID]; !ok {
			fn(s.ID, s, index.EffectiveStatus(s, now))
		}
		return true
	})
	return nil
}

// summary counts a selection for SelectionSummary, one distinct id at a time.
type summary struct {
	own string
	now time.Time
	out SelectionSummary
	per map[string]*tally // by user ID
}

// tally is one person's active sessions in a selection.
type tally struct {
	n   int
	who domain.Person
}

func newSummary(own string, now time.Time) *summary {
	return &summary{own: own, now: now, per: map[string]*tally{}}
}

// add counts id, whose session s has status as of now ("" when it is not
// cached, and s is then empty). One map lookup per session: at a million
// sessions the count is this loop.
func (z *summary) add(id string, s *domain.Session, status string) {
	z.out.Count++
	if id == z.own {
		z.out.IncludesMe = true
		return
	}
	if status != domain.StatusActive {
		return
	}
	z.out.Active++
	t := z.per[s.User.ID]
	if t == nil {
		t = &tally{who: s.User}
		z.per[s.User.ID] = t
	}
	t.n++
}

func (z *summary) result() SelectionSummary {
	out := z.out
	order := make([]*tally, 0, len(z.per))
	for _, t := range z.per {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b *tally) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.who.Email, b.who.Email)
	})
	for i, t := range order {
		if i == 5 {
			out.MorePeople = len(order) - 5
			break
		}
		out.People = append(out.People, t.who)
	}
	return out
}

// batchEnded is batch without the ids the platform did not find (notFound).
func batchEnded(batch, notFound []string) []string {
	if len(notFound) == 0 {
		return batch
	}
	missing := make(map[string]bool, len(notFound))
	for _, id := range notFound {
		missing[id] = true
	}
	return slices.DeleteFunc(slices.Clone(batch), func(id string) bool { return missing[id] })
}

// SelectedResult is what TerminateSelected did.
type SelectedResult struct {
	Terminated int
	NotFound   int
	SkippedMe  bool // the caller's own session was selected and kept
	Batches    int  // batches the platform took
	// NotEnded lists, in the order given, the sessions of the batch that
	// failed and of every batch after it: none of them was ended (unless
	// the failed batch's answer broke off), so the user can retry them.
	// Empty when every batch went through.
	NotEnded []string
}

// TerminateSelected ends the chosen sessions in batches of domain.MaxSelected,
// reporting progress (sessions sent so far, of total) after each batch. The
// caller's own session is never ended this way (that is signing out). A
// failing batch stops the run: the result then counts what earlier batches
// ended (which stays ended) and lists the rest in NotEnded, and the error
// says why, phrased for the rest when earlier batches went through (the
// action's usual "nothing was changed" would be untrue).
func (w *Workspace) TerminateSelected(ctx context.Context, ids []string, reason string, progress func(done, total int)) (SelectedResult, error) {
	return w.terminateChosen(ctx, reason, progress, func() ([]string, error) {
		if len(ids) > MaxSelection {
			return nil, &Error{Code: domain.KindInvalid, Message: msgSelectNone}
		}
		return ids, nil
	})
}

// TerminateMatching ends "all N matching": every session matching q but
// those in except, resolved against the index when it runs (the page holds
// the query, not the ids), then ended as TerminateSelected ends its ids —
// same permission, reason, batches, progress and result.
func (w *Workspace) TerminateMatching(ctx context.Context, q SessionQuery, except []string, reason string, progress func(done, total int)) (SelectedResult, error) {
	return w.terminateChosen(ctx, reason, progress, func() ([]string, error) {
		var ids []string
		err := eachMatching(w.sessions, q, except, w.prov.Now(), func(id string, _ *domain.Session, _ string) { ids = append(ids, id) })
		return ids, err
	})
}

// terminateChosen is TerminateSelected and TerminateMatching once the
// permission and the reason are checked: chosen gives the ids (checked
// after them, so that a refused role learns of its role first).
func (w *Workspace) terminateChosen(ctx context.Context, reason string, progress func(done, total int), chosen func() ([]string, error)) (SelectedResult, error) {
	if err := w.allowed(domain.PermSessionsTerminateOrg); err != nil {
		return SelectedResult{}, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return SelectedResult{}, err
	}
	ids, err := chosen()
	if err != nil {
		return SelectedResult{}, err
	}
	if len(ids) == 0 {
		return SelectedResult{}, &Error{Code: domain.KindInvalid, Message: msgSelectNone}
	}
	own := w.Me().SessionID
	var res SelectedResult
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == own {
			res.SkippedMe = true
			continue
		}
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if progress != nil {
		progress(0, len(uniq))
	}
	for start := 0; start < len(uniq); start += domain.MaxSelected {
		batch := uniq[start:min(start+domain.MaxSelected, len(uniq))]
		out, err := w.prov.EndSessions(ctx, batch, reason)
		if err != nil {
			w.afterAction(ctx, nil, nil)
			res.NotEnded = slices.Clone(uniq[start:])
			if res.Batches == 0 {
				return res, w.fail(err)
			}
			return res, w.failAs(err, restOfBatches)
		}
		res.Terminated += out.Terminated
		res.NotFound += len(out.NotFound)
		res.Batches++
		// Shown ended now, batch by batch (Syncer.EndLocally); the sync
		// below brings the platform's rows.
		w.sync.EndLocally(batchEnded(batch, out.NotFound), w.actor())
		if progress != nil {
			progress(start+len(batch), len(uniq))
		}
	}
	if len(uniq) <= syncBehindFrom {
		w.syncAfter(ctx)
	} else {
		// Already shown ended, so the sync that brings the platform's
		// rows (and the audit event) runs behind the answer, as after
		// terminate-all: at a million sessions it took ~90 s, with the
		// dialog held open on "Terminating…".
		w.afterAction(ctx, nil, nil)
	}
	return res, nil
}

// syncBehindFrom is the size of a bulk end past which the sync after it is
// not waited for: up to it the answer comes with the platform's rows and
// audit event in the cache (who ended each, and why), in about a second.
const syncBehindFrom = 10 * domain.MaxSelected

// SignOutEverywhere ends every active session of one person. When the
// person is the caller and keepCurrent is false, the caller is signed out
// too. Signing oneself out of one's other devices needs only view; another
// person needs pf.sessions.terminate_org (v1.2).
func (w *Workspace) SignOutEverywhere(ctx context.Context, userID string, keepCurrent bool, reason string) (int, error) {
	if userID != w.Me().User.ID {
		if err := w.allowed(domain.PermSessionsTerminateOrg); err != nil {
			return 0, err
		}
	}
	reason, err := checkReason(reason)
	if err != nil {
		return 0, err
	}
	upTo := w.markBound(ctx)
	res, err := w.prov.EndPersonSessions(ctx, userID, keepCurrent, reason)
	if err != nil {
		return 0, w.fail(err)
	}
	if !keepCurrent && userID == w.Me().User.ID {
		w.end()
		return res.Terminated, nil
	}
	own := w.Me().SessionID
	w.endLocallyWhere(upTo, func(s *domain.Session) bool {
		return s.User.ID == userID && (!keepCurrent || own == "" || s.ID != own)
	})
	w.syncAfter(ctx)
	return res.Terminated, nil
}

// syncAfter brings the ended sessions and the new audit event into the
// cache before the action returns, so the UI's next read shows them ended.
// Offline by then is not the action's failure: the background sync retries.
func (w *Workspace) syncAfter(ctx context.Context) {
	if _, err := w.sync.SyncNow(ctx); err != nil {
		w.log.Info("sync after an action failed; the background sync retries", "err", err)
		w.sync.Trigger()
	}
}

// Overview computes the organization's picture from the cache.
func (w *Workspace) Overview() (overview.Overview, error) {
	return overview.Compute(w.sessions.Tallies(), w.devices.Tallies(), w.prov.Now()), nil
}

// AuditQuery is a window of the cached audit log, filtered (v1.1).
type AuditQuery struct {
	Search       string
	Action       string
	ActorID      string
	TargetUserID string
	Offset       int
	Limit        int
}

// AuditFacets are the values the audit log's filters offer: the actions,
// actors and target people that occur in the cache.
type AuditFacets struct {
	Actions []string
	Actors  []domain.Person
	Targets []domain.Person
}

func auditQuery(q AuditQuery) (index.Query[domain.AuditEvent], error) {
	iq := index.Query[domain.AuditEvent]{Search: q.Search, Sort: "at", Desc: true, Offset: q.Offset, Limit: window(q.Limit)}
	for _, v := range []string{q.Action, q.ActorID, q.TargetUserID} {
		if len(v) > maxFilterLen {
			return iq, &Error{Code: domain.KindInvalid, Message: "a filter value is too long"}
		}
	}
	if q.Action == "" && q.ActorID == "" && q.TargetUserID == "" {
		return iq, nil
	}
	iq.FilterKey = q.Action + "\x01" + q.ActorID + "\x01" + q.TargetUserID
	iq.Keep = func(e *domain.AuditEvent) bool {
		return (q.Action == "" || e.Action == q.Action) && (q.ActorID == "" || e.Actor.ID == q.ActorID) &&
			(q.TargetUserID == "" || e.TargetUser != nil && e.TargetUser.ID == q.TargetUserID)
	}
	return iq, nil
}

// FindAudit answers a filtered window of the cached audit log.
func (w *Workspace) FindAudit(q AuditQuery) (AuditPage, error) {
	iq, err := auditQuery(q)
	if err != nil {
		return AuditPage{}, err
	}
	res := w.audit.Find(iq, "at")
	page := AuditPage{Items: res.Items, Total: res.Total}
	page.Offline, page.SnapshotAt = w.freshness()
	return page, nil
}

// EachAudit calls fn with every cached event matching q, in q's order, and
// stops at fn's first error (see EachSession).
func (w *Workspace) EachAudit(q AuditQuery, fn func(domain.AuditEvent) error) error {
	iq, err := auditQuery(q)
	if err != nil {
		return err
	}
	iq.FilterKey = "export\x01" + iq.FilterKey
	defer w.audit.Forget()
	return w.audit.Each(iq, "at", fn)
}

// AuditFacets lists the filter values present in the cached audit log.
func (w *Workspace) AuditFacets() (AuditFacets, error) {
	actions := map[string]bool{}
	actors := map[string]domain.Person{}
	targets := map[string]domain.Person{}
	for e := range w.audit.All() {
		actions[e.Action] = true
		actors[e.Actor.ID] = e.Actor
		if e.TargetUser != nil {
			targets[e.TargetUser.ID] = *e.TargetUser
		}
	}
	out := AuditFacets{Actions: []string{}, Actors: sortedUsers(actors), Targets: sortedUsers(targets)}
	for a := range actions {
		out.Actions = append(out.Actions, a)
	}
	slices.Sort(out.Actions)
	return out, nil
}

func sortedUsers(m map[string]domain.Person) []domain.Person {
	out := make([]domain.Person, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b domain.Person) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
