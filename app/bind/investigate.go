package bind

import (
	"context"
	"strconv"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/overview"
)

// EventTerminateProgress reports a running "Terminate selected" after each
// batch, or a running "Terminate all" as sessions end: {done, total}.
const EventTerminateProgress = "sessions:terminate-progress"

// TerminateProgress is the payload of EventTerminateProgress.
type TerminateProgress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// SetProgressEmitter makes s report "Terminate selected" and "Terminate
// all" progress through e
// (tests; the app uses the window's emitter from Start). A function, not a
// method, so that Wails does not bind it.
func SetProgressEmitter(s *SessionsService, e Emitter) { s.progress = e }

func (s *SessionsService) emitProgress(done, total int) {
	if s.progress != nil {
		s.progress.Emit(EventTerminateProgress, TerminateProgress{Done: done, Total: total})
	}
}

// SelectionSummary tells the confirmation dialog what a selection holds.
type SelectionSummary struct {
	Count      int             `json:"count"`
	Active     int             `json:"active"`
	People     []domain.Person `json:"people"`
	MorePeople int             `json:"morePeople"`
	IncludesMe bool            `json:"includesMe"`
}

// SelectedResult is what "Terminate selected" did.
type SelectedResult struct {
	Terminated int  `json:"terminated"`
	NotFound   int  `json:"notFound"`
	SkippedMe  bool `json:"skippedMe"`
	Batches    int  `json:"batches"`
	// NotEnded are the selected sessions a failed batch left as they were,
	// for the UI to keep selected (TerminateSelected only: a selection by
	// query keeps its query); NotEndedCount counts them; Failure says why
	// (null when every batch went through).
	NotEnded      []string `json:"notEnded"`
	NotEndedCount int      `json:"notEndedCount"`
	Failure       *UIError `json:"failure"`
}

// SessionDetails is one session in full, with its device and the audit event
// that ended it (null when none is cached).
type SessionDetails struct {
	Session domain.Session     `json:"session"`
	Device  *domain.Device     `json:"device"`
	Ended   *domain.AuditEvent `json:"ended"`
}

// RangeIDs returns the ID of each session in the window q.Offset, q.Limit
// of the list q (a Shift-click range reaching rows the page has not loaded;
// at most desk.MaxRange).
func (s *SessionsService) RangeIDs(q SessionQuery) ([]string, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) ([]string, error) { return w.SessionIDs(desk.SessionQuery(q)) }, nonNil)
}

// Summarize describes a selection of ids for the confirmation dialog.
func (s *SessionsService) Summarize(ids []string) (SelectionSummary, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.SelectionSummary, error) { return w.SummarizeSelection(ids) }, selectionSummary)
}

// SummarizeMatching describes "all N matching" — every session matching q
// (its window ignored) but the ids in except — for the confirmation dialog.
func (s *SessionsService) SummarizeMatching(q SessionQuery, except []string) (SelectionSummary, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.SelectionSummary, error) {
		return w.SummarizeMatching(desk.SessionQuery(q), except)
	}, selectionSummary)
}

func selectionSummary(sum desk.SelectionSummary) SelectionSummary {
	if sum.People == nil {
		sum.People = []domain.Person{}
	}
	return SelectionSummary(sum)
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// TerminateSelected ends the chosen sessions, up to 1,000 per request to the
// platform, emitting EventTerminateProgress after each batch.
func (s *SessionsService) TerminateSelected(ids []string, reason string) (SelectedResult, error) {
	return s.terminateChosen(func(ctx context.Context, w *desk.Workspace) (desk.SelectedResult, error) {
		return w.TerminateSelected(ctx, ids, reason, s.emitProgress)
	}, true)
}

// TerminateMatching ends "all N matching": every session matching q but the
// ids in except, resolved on the Go side when it runs, as TerminateSelected
// ends its ids. The result's NotEnded stays empty (it could be an
// organization's worth of ids): the selection is still the query, which
// finds what is left; NotEndedCount says how many.
func (s *SessionsService) TerminateMatching(q SessionQuery, except []string, reason string) (SelectedResult, error) {
	return s.terminateChosen(func(ctx context.Context, w *desk.Workspace) (desk.SelectedResult, error) {
		return w.TerminateMatching(ctx, desk.SessionQuery(q), except, reason, s.emitProgress)
	}, false)
}

func (s *SessionsService) terminateChosen(end func(context.Context, *desk.Workspace) (desk.SelectedResult, error), listNotEnded bool) (SelectedResult, error) {
	// Many batches may take longer than one call's timeout.
	ctx := s.window()
	w, err := s.d.Workspace()
	if err != nil {
		return SelectedResult{}, uiError(err)
	}
	res, err := end(ctx, w)
	if err != nil && res.Batches == 0 {
		return SelectedResult{}, uiError(err) // nothing was ended
	}
	out := SelectedResult{Terminated: res.Terminated, NotFound: res.NotFound, SkippedMe: res.SkippedMe, Batches: res.Batches,
		NotEnded: []string{}, NotEndedCount: len(res.NotEnded)}
	if listNotEnded && res.NotEnded != nil {
		out.NotEnded = res.NotEnded
	}
	if err != nil {
		// Earlier batches went through: the user must learn how many ended
		// and which were not, which a rejected call would lose, so the
		// failure travels in the result.
		out.Failure = toUIError(err)
	}
	return out, nil
}

// Details returns one cached session in full.
func (s *SessionsService) Details(id string) (SessionDetails, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.SessionDetails, error) { return w.SessionDetails(id) }, func(d desk.SessionDetails) SessionDetails { return SessionDetails(d) })
}

// PeopleService shows one person and signs them out everywhere.
type PeopleService struct{ base }

// NewPeopleService binds the person page.
func NewPeopleService(d *desk.Desk) *PeopleService { return &PeopleService{base{d: d}} }

// Person is one person as the cache knows them.
type Person struct {
	User           domain.Person `json:"user"`
	IsMe           bool          `json:"isMe"`
	ActiveSessions int           `json:"activeSessions"`
	Sessions       int           `json:"sessions"`
	Devices        int           `json:"devices"`
}

// Get returns the person with the user ID.
func (s *PeopleService) Get(userID string) (Person, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.Person, error) { return w.Person(userID) }, func(p desk.Person) Person { return Person(p) })
}

// SignOutEverywhere ends every active session of the person (keeping the
// caller's own when it is theirs and keepCurrent).
func (s *PeopleService) SignOutEverywhere(userID string, keepCurrent bool, reason string) (TerminateAllResult, error) {
	ctx, cancel := s.call()
	defer cancel()
	return withWorkspace(s.d, func(w *desk.Workspace) (TerminateAllResult, error) {
		n, err := w.SignOutEverywhere(ctx, userID, keepCurrent, reason)
		if err != nil {
			return TerminateAllResult{}, err
		}
		return TerminateAllResult{Terminated: n}, nil
	})
}

// OverviewService computes the Overview tab from the cache.
type OverviewService struct{ base }

// NewOverviewService binds the overview.
func NewOverviewService(d *desk.Desk) *OverviewService { return &OverviewService{base{d: d}} }

// Get returns the organization's picture now.
func (s *OverviewService) Get() (overview.Overview, error) {
	return withWorkspace(s.d, func(w *desk.Workspace) (overview.Overview, error) {
		o, err := w.Overview()
		if err != nil {
			return overview.Overview{}, err
		}
		return o, nil
	})
}

// AuditQuery asks for a filtered window of the audit log.
type AuditQuery struct {
	Search       string `json:"search"`
	Action       string `json:"action"`
	ActorID      string `json:"actorId"`
	TargetUserID string `json:"targetUserId"`
	Offset       int    `json:"offset"`
	Limit        int    `json:"limit"`
}

// AuditFacets are the values the audit log's filters offer.
type AuditFacets struct {
	Actions []string        `json:"actions"`
	Actors  []domain.Person `json:"actors"`
	Targets []domain.Person `json:"targets"`
}

// Find returns a filtered window of the audit log, newest first.
func (s *AuditService) Find(q AuditQuery) (AuditPage, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.AuditPage, error) { return w.FindAudit(desk.AuditQuery(q)) }, func(p desk.AuditPage) AuditPage { return AuditPage(p) })
}

// EndedSession is one session a bulk action ended, as the audit log's
// detail lists it: client, IP and person when the session is cached
// (known), else only its id.
type EndedSession struct {
	ID     string         `json:"id"`
	Known  bool           `json:"known"`
	Client string         `json:"client"`
	IP     string         `json:"ip"`
	User   *domain.Person `json:"user"`
}

// EndedSessions lists the sessions the audit event ended (its target_ids).
func (s *AuditService) EndedSessions(eventID string) ([]EndedSession, error) {
	return withWorkspace(s.d, func(w *desk.Workspace) ([]EndedSession, error) {
		ended, err := w.EndedSessions(eventID)
		if err != nil {
			return nil, err
		}
		out := make([]EndedSession, len(ended))
		for i, e := range ended {
			out[i] = EndedSession(e)
		}
		return out, nil
	})
}

// Facets lists the actions, actors and target people in the cached log.
func (s *AuditService) Facets() (AuditFacets, error) {
	return fromWorkspace(s.d, func(w *desk.Workspace) (desk.AuditFacets, error) { return w.AuditFacets() }, func(f desk.AuditFacets) AuditFacets { return AuditFacets(f) })
}

// ExportCSV writes every event matching q to a file the user picks.
func (s *AuditService) ExportCSV(q AuditQuery) (string, error) {
	return exportRows(s.base, s.exporter, "Export audit log", "audit-", auditCSV, func(w *desk.Workspace, fn func(domain.AuditEvent) error) error {
		return w.EachAudit(desk.AuditQuery(q), fn)
	})
}

var auditCSV = csvLayout[domain.AuditEvent]{
	header: []string{"id", "at", "action", "actor_email", "actor_name", "target_id", "target_email", "target_name", "target_label", "count", "reason"},
	record: func(e domain.AuditEvent) []string {
		var target, email, name string
		if e.TargetID != nil {
			target = *e.TargetID
		}
		if e.TargetUser != nil {
			email, name = e.TargetUser.Email, e.TargetUser.Name
		}
		return []string{e.ID, ts(e.At), e.Action, e.Actor.Email, e.Actor.Name, target, email, name, e.TargetLabel,
			strconv.Itoa(e.Count), e.Reason}
	},
}
