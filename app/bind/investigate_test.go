package bind_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/app/bind"
	"sessiondesk/app/desk"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// The v1.1 bound methods over a real platform: select all matching, the
// dialog's summary, Terminate selected with progress events, details, the
// person page, the overview and the filtered audit log with its CSV.
func TestInvestigationServices(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	dir := t.TempDir()
	d, err := desk.New(desk.Config{ConfigDir: filepath.Join(dir, "cfg"), CacheDir: filepath.Join(dir, "cache"), SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	d.Start(context.Background())
	defer d.Close()
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
	ids, err := sessions.MatchingIDs(q)
	if err != nil || len(ids) == 0 {
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
	res, err := sessions.TerminateSelected(ids, "German sessions without MFA")
	if err != nil || res.Terminated != len(ids) || res.Batches != 1 {
		t.Fatalf("terminate selected = %+v %v", res, err)
	}
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
	if after, _ := sessions.List(q); after.Total != 0 {
		t.Errorf("%d still match after Terminate selected", after.Total)
	}
	det, err := sessions.Details(ids[0])
	if err != nil || det.Session.Status != api.StatusTerminated || det.Ended == nil || det.Ended.Reason != "German sessions without MFA" {
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
	ap, err := audit.Find(bind.AuditQuery{Action: api.ActionSessionsTerminateSelected, Limit: 10})
	if err != nil || ap.Total != 1 {
		t.Fatalf("audit find = %+v %v", ap, err)
	}
	if path, err := audit.ExportCSV(bind.AuditQuery{Action: api.ActionSessionsTerminateSelected}); err != nil || path != csvPath {
		t.Fatalf("audit export = %q %v", path, err)
	}
	f, _ := os.Open(csvPath)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 || rows[1][2] != api.ActionSessionsTerminateSelected || rows[1][10] != "German sessions without MFA" {
		t.Errorf("audit csv = %v %v", rows, err)
	}
	if fi, _ := os.Stat(csvPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit csv mode %v", fi.Mode().Perm())
	}
	facets, err := audit.Facets()
	if err != nil || len(facets.Actions) == 0 {
		t.Errorf("facets = %+v %v", facets, err)
	}
}
