package bind_test

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sessiondesk/app/bind"
	"sessiondesk/app/desk"
	"sessiondesk/app/desk/desktest"
	"sessiondesk/app/domain"
	"sessiondesk/backend/platformtest"
)

// The v1.1 bound methods over a real platform: select all matching, the
// dialog's summary, Terminate selected with progress events, details, the
// person page, the overview and the filtered audit log with its CSV.
func TestInvestigationServices(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := desktest.NewEnv(t)
	dir := e.Dir
	d := e.Open(t)
	auth := bind.NewAuthService(d)
	sessions := bind.NewSessionsService(d, nil)
	em := &fakeEmitter{}
	bind.SetProgressEmitter(sessions, em)
	audit := bind.NewAuditService(d)
	csvPath := filepath.Join(dir, "audit.csv")
	bind.SetAuditDialogs(audit, fakeDialogs{path: csvPath})
	people, overview := bind.NewPeopleService(d), bind.NewOverviewService(d)
	if _, err := auth.SignIn(bind.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}); err != nil {
		t.Fatal(err)
	}
	if _, err := bind.NewSyncService(d).SyncNow(); err != nil {
		t.Fatal(err)
	}

	q := bind.SessionQuery{Status: "active", MFA: "no", Country: "DE"}
	window := q
	window.Limit = 1000
	ids, err := sessions.RangeIDs(window)
	if err != nil || len(ids) < 2 {
		t.Fatalf("matching = %v %v", ids, err)
	}
	page, _ := sessions.List(q)
	if page.Total != len(ids) {
		t.Errorf("list total %d, matching %d", page.Total, len(ids))
	}
	sum, err := sessions.Summarize(ids)
	if err != nil || sum.Active != len(ids) || len(sum.People) == 0 {
		t.Fatalf("summary = %+v %v", sum, err)
	}
	// "All matching" with the first row unticked: the query and that one id.
	unticked := ids[:1]
	byQuery, err := sessions.SummarizeMatching(q, unticked)
	if err != nil || byQuery.Count != len(ids)-1 || byQuery.Active != len(ids)-1 || byQuery.People == nil {
		t.Fatalf("summary of all matching = %+v %v", byQuery, err)
	}
	var ue *bind.UIError
	if _, err := sessions.SummarizeMatching(bind.SessionQuery{MFA: "maybe"}, nil); !errors.As(err, &ue) || ue.Code != "invalid_argument" {
		t.Errorf("summary of a bad query: %v", err)
	}
	res, err := sessions.TerminateMatching(q, unticked, "German sessions without MFA")
	if err != nil || res.Terminated != len(ids)-1 || res.Batches != 1 || res.NotEnded == nil || res.NotEndedCount != 0 || res.Failure != nil {
		t.Fatalf("terminate matching = %+v %v", res, err)
	}
	ids = ids[1:]
	var progress []bind.TerminateProgress
	em.mu.Lock()
	for _, e := range em.got {
		if e.name == bind.EventTerminateProgress {
			progress = append(progress, e.data[0].(bind.TerminateProgress))
		}
	}
	em.mu.Unlock()
	if len(progress) != 2 || progress[1] != (bind.TerminateProgress{Done: len(ids), Total: len(ids)}) {
		t.Errorf("progress events = %+v", progress)
	}
	if after, _ := sessions.List(q); after.Total != 1 {
		t.Errorf("%d still match after Terminate the N matching, want the unticked one", after.Total)
	}
	det, err := sessions.Details(ids[0])
	if err != nil || det.Session.Status != domain.StatusTerminated || det.Ended == nil || det.Ended.Reason != "German sessions without MFA" {
		t.Errorf("details = %+v %v", det, err)
	}
	person, err := people.Get(det.Session.User.ID)
	if err != nil || person.User.ID != det.Session.User.ID {
		t.Errorf("person = %+v %v", person, err)
	}
	o, err := overview.Get()
	if err != nil || o.ActiveSessions == 0 || len(o.SignIns) != 168 {
		t.Errorf("overview = %+v %v", o, err)
	}
	ap, err := audit.Find(bind.AuditQuery{Action: domain.ActionSessionsTerminateSelected, Limit: 10})
	if err != nil || ap.Total != 1 {
		t.Fatalf("audit find = %+v %v", ap, err)
	}
	if path, err := audit.ExportCSV(bind.AuditQuery{Action: domain.ActionSessionsTerminateSelected}); err != nil || path != csvPath {
		t.Fatalf("audit export = %q %v", path, err)
	}
	f, _ := os.Open(csvPath)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 || rows[1][2] != domain.ActionSessionsTerminateSelected || rows[1][10] != "German sessions without MFA" {
		t.Errorf("audit csv = %v %v", rows, err)
	}
	if fi, _ := os.Stat(csvPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit csv mode %v", fi.Mode().Perm())
	}
	facets, err := audit.Facets()
	if err != nil || len(facets.Actions) == 0 {
		t.Errorf("facets = %+v %v", facets, err)
	}

	// Terminate all reports through the same event; platformd ends them in
	// one request, so its one report is already the whole.
	em.mu.Lock()
	em.got = nil
	em.mu.Unlock()
	all, err := sessions.TerminateAll(true, "sweep")
	if err != nil || all.Terminated == 0 {
		t.Fatalf("terminate all = %+v %v", all, err)
	}
	progress = nil
	em.mu.Lock()
	for _, e := range em.got {
		if e.name == bind.EventTerminateProgress {
			progress = append(progress, e.data[0].(bind.TerminateProgress))
		}
	}
	em.mu.Unlock()
	if len(progress) != 1 || progress[0] != (bind.TerminateProgress{Done: all.Terminated, Total: all.Terminated}) {
		t.Errorf("terminate all progress events = %+v", progress)
	}
}

// emitterFunc is an Emitter that calls a function: here, to stop the
// platform between two batches of a Terminate selected.
type emitterFunc func(name string, data ...any)

func (f emitterFunc) Emit(name string, data ...any) { f(name, data...) }

// A Terminate selected whose second batch the platform never gets (it is
// stopped between the batches): the result says exactly how many the first
// batch ended and lists the sessions left as they were, with the reason
// phrased for them, so the UI can keep them selected; retried once the
// platform is back, exactly those end. When the first batch already fails,
// nothing was ended and the call fails as a single action does.
func TestTerminateSelectedTellsWhatAFailedBatchLeft(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	d := desktest.NewEnv(t).Open(t)
	st, err := bind.NewAuthService(d).SignIn(bind.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.NewSyncService(d).SyncNow(); err != nil {
		t.Fatal(err)
	}
	sessions := bind.NewSessionsService(d, nil)
	all, err := sessions.RangeIDs(bind.SessionQuery{Status: "active", Limit: desk.MaxRange})
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, id := range all {
		if id != st.Me.SessionID {
			others = append(others, id)
		}
	}
	if len(others) < 80 {
		t.Fatalf("only %d active sessions to end", len(others))
	}
	first, rest := others[:40], others[40:80]
	// The first batch: 40 real sessions and 960 well-formed IDs the platform
	// does not know; the second: 40 more real ones.
	sent := slices.Clone(first)
	for i := 0; len(sent) < domain.MaxSelected; i++ {
		sent = append(sent, "ses_"+strings.Repeat("q", 23)+string(rune('a'+i/676))+string(rune('a'+i/26%26))+string(rune('a'+i%26)))
	}
	sent = append(sent, rest...)
	bind.SetProgressEmitter(sessions, emitterFunc(func(name string, data ...any) {
		if pr, ok := data[0].(bind.TerminateProgress); ok && name == bind.EventTerminateProgress && pr.Done == domain.MaxSelected {
			p.Stop()
		}
	}))

	res, err := sessions.TerminateSelected(sent, "sweep")
	if err != nil {
		t.Fatalf("a run whose first batch went through failed as a whole: %v", err)
	}
	if res.Terminated != len(first) || res.NotFound != domain.MaxSelected-len(first) || res.Batches != 1 {
		t.Errorf("result = terminated %d, not found %d, batches %d; want %d, %d, 1", res.Terminated, res.NotFound, res.Batches, len(first), domain.MaxSelected-len(first))
	}
	if !slices.Equal(res.NotEnded, rest) {
		t.Errorf("not ended = %d sessions, want the %d of the second batch in order", len(res.NotEnded), len(rest))
	}
	const want = "The platform cannot be reached. Try them again when you are back online."
	if res.Failure == nil || res.Failure.Code != desk.CodeOffline || res.Failure.Message != want {
		t.Errorf("failure = %+v, want %q", res.Failure, want)
	}

	p.Restart()
	bind.SetProgressEmitter(sessions, nil)
	again, err := sessions.TerminateSelected(res.NotEnded, "sweep, the rest")
	if err != nil || again.Terminated != len(rest) || again.NotFound != 0 || again.Failure != nil || len(again.NotEnded) != 0 {
		t.Fatalf("retrying the rest = %+v %v; want all %d ended", again, err, len(rest))
	}

	// Nothing ended: the call fails, in a single action's words.
	p.Stop()
	_, err = sessions.TerminateSelected(others[80:81], "")
	var ue *bind.UIError
	if !errors.As(err, &ue) || ue.Code != desk.CodeOffline || !strings.Contains(ue.Message, "so nothing was changed") {
		t.Errorf("first batch refused: %v", err)
	}
}
