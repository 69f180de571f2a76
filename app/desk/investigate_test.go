package desk_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/platformtest"
)

// Every combination of the v1.1 filters with search and sort gives exactly
// the rows a plain scan of all cached sessions gives, in the same order and
// with the same total.
func TestSessionFiltersCombine(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	d := newEnv(t).Open(t)
	signIn(t, d, p, "admin@acme.test")
	syncNow(t, d)
	all, err := collect(ws(t, d).EachSession, desk.SessionQuery{Status: "all", Sort: "created_at"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	someone := all[len(all)/2].User.ID
	hour := all[len(all)/3].CreatedAt.Truncate(time.Hour)
	queries := []desk.SessionQuery{
		{Status: "active", MFA: "no"},
		{Status: "all", MFA: "yes", Country: "DE"},
		{Status: "active", Platform: "Windows", Browser: "Firefox"},
		{Status: "expired"},
		{Status: "terminated", Search: "acme"},
		{Status: "all", UserID: someone},
		{Status: "all", Country: desk.Unknown},
		{Status: "all", CreatedFrom: hour.UnixMilli(), CreatedTo: hour.Add(time.Hour).UnixMilli()},
		{Status: "active", MFA: "no", Platform: "macOS", Search: "1"},
	}
	for _, q := range queries {
		q.Sort, q.Limit = "created_at", 1000
		page, err := ws(t, d).ListSessions(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		var want []string
		for _, s := range all {
			if matches(s, q, now) {
				want = append(want, s.ID)
			}
		}
		var got []string
		for _, s := range page.Items {
			got = append(got, s.ID)
		}
		if page.Total != len(want) || !slices.Equal(got, want) {
			t.Errorf("%+v: %d rows (total %d), want %d", q, len(got), page.Total, len(want))
		}
		if q.Status != "terminated" && q.Status != "expired" && len(want) == 0 {
			t.Errorf("%+v matches nothing in the demo: the test proves little", q)
		}
		ids, err := ws(t, d).SessionIDs(q)
		if err != nil || !slices.Equal(ids, want) {
			t.Errorf("%+v: the IDs of the window differ from the list (%d vs %d)", q, len(ids), len(want))
		}
		if len(want) > 2 {
			// A Shift-click range: the window's rows, not the whole list.
			q.Offset, q.Limit = 1, 2
			if ids, err := ws(t, d).SessionIDs(q); err != nil || !slices.Equal(ids, want[1:3]) {
				t.Errorf("%+v: range %v %v, want %v", q, ids, err, want[1:3])
			}
			q.Offset = 0
		}
		sum, err := ws(t, d).SummarizeMatching(q, nil)
		if err != nil || sum.Count != len(want) {
			t.Errorf("%+v: summary of all matching counts %d %v, want %d", q, sum.Count, err, len(want))
		}
	}
	for _, bad := range []desk.SessionQuery{{MFA: "maybe"}, {Status: "gone"}, {CreatedFrom: 10, CreatedTo: 5}, {Country: strings.Repeat("x", 201)}} {
		if _, err := ws(t, d).ListSessions(bad); codeOf(err) != domain.KindInvalid {
			t.Errorf("%+v: %v, want invalid_argument", bad, err)
		}
		if _, err := ws(t, d).SummarizeMatching(bad, nil); codeOf(err) != domain.KindInvalid {
			t.Errorf("summary of %+v: %v, want invalid_argument", bad, err)
		}
	}
	// A range is bounded; so are the rows left out of "all matching".
	for _, bad := range []desk.SessionQuery{{Limit: 0}, {Limit: desk.MaxRange + 1}, {Offset: -1, Limit: 1}} {
		if _, err := ws(t, d).SessionIDs(bad); codeOf(err) != domain.KindInvalid {
			t.Errorf("range %+v: %v, want invalid_argument", bad, err)
		}
	}
	if _, err := ws(t, d).SummarizeMatching(desk.SessionQuery{}, make([]string, desk.MaxSelection+1)); codeOf(err) != domain.KindInvalid {
		t.Errorf("too many left out: %v, want invalid_argument", err)
	}
	// Devices first seen in the last 24 h, and one person's devices.
	devs, err := collect(ws(t, d).EachDevice, desk.DeviceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []desk.DeviceQuery{{FirstSeenHours: 24}, {UserID: devs[0].User.ID}, {Platform: devs[0].Platform, Trusted: "true"}, {DeviceID: devs[1].ID}} {
		q.Limit = 1000
		page, err := ws(t, d).ListDevices(q)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, dv := range devs {
			if (q.FirstSeenHours == 0 || dv.FirstSeenAt.After(time.Now().Add(-24*time.Hour))) &&
				(q.UserID == "" || dv.User.ID == q.UserID) && (q.Platform == "" || dv.Platform == q.Platform) &&
				(q.Trusted == "" || dv.Trusted) && (q.DeviceID == "" || dv.ID == q.DeviceID) {
				want++
			}
		}
		if page.Total != want {
			t.Errorf("%+v: %d devices, want %d", q, page.Total, want)
		}
	}
}

func matches(s domain.Session, q desk.SessionQuery, now time.Time) bool {
	st := index.EffectiveStatus(&s, now)
	if q.Status != "all" && st != q.Status {
		return false
	}
	unk := func(v string) string {
		if v == desk.Unknown {
			return ""
		}
		return v
	}
	hay := strings.ToLower(s.User.Email + "\n" + s.User.Name + "\n" + s.IP + "\n" + s.Client + "\n" + s.Location)
	return (q.Search == "" || strings.Contains(hay, strings.ToLower(q.Search))) &&
		(q.UserID == "" || s.User.ID == q.UserID) &&
		(q.MFA == "" || s.MFA == (q.MFA == "yes")) &&
		(q.Country == "" || index.Country(s.Location) == unk(q.Country)) &&
		(q.Platform == "" || index.ClientPlatform(s.Client) == unk(q.Platform)) &&
		(q.Browser == "" || index.ClientBrowser(s.Client) == q.Browser) &&
		(q.CreatedFrom == 0 || s.CreatedAt.UnixMilli() >= q.CreatedFrom) &&
		(q.CreatedTo == 0 || s.CreatedAt.UnixMilli() < q.CreatedTo)
}

// A filter, a selection and Terminate selected, checked against the
// platform: the chosen sessions end there (in batches of 1,000), the others
// and the caller's own do not; the audit log and the details panel then say
// who ended them and why.
func TestTerminateSelectedAndDetails(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	d := newEnv(t).Open(t)
	st := signIn(t, d, p, "admin@acme.test")
	syncNow(t, d)
	q := desk.SessionQuery{Status: "active", MFA: "no", Platform: "Windows"}
	ids, err := collectIDs(ws(t, d), q)
	if err != nil || len(ids) < 2 {
		t.Fatalf("matching = %d %v", len(ids), err)
	}
	chosen := ids[:len(ids)/2+1]
	sum, err := ws(t, d).SummarizeSelection(append(slices.Clone(chosen), chosen[0], st.Me.SessionID))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count != len(chosen)+1 || sum.Active != len(chosen) || !sum.IncludesMe || len(sum.People) == 0 || len(sum.People) > 5 {
		t.Errorf("summary = %+v", sum)
	}
	// Pad past one batch with well-formed IDs the platform does not know.
	sent := append(slices.Clone(chosen), st.Me.SessionID)
	for i := 0; len(sent) < 1500; i++ {
		sent = append(sent, "ses_"+strings.Repeat("q", 23)+string(rune('a'+i/676))+string(rune('a'+i/26%26))+string(rune('a'+i%26)))
	}
	var progress [][2]int
	res, err := ws(t, d).TerminateSelected(ctx, sent, "sweep of Windows sessions without MFA", func(done, total int) {
		progress = append(progress, [2]int{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Terminated != len(chosen) || res.Batches != 2 || !res.SkippedMe || res.NotFound != 1500-len(chosen)-1 {
		t.Errorf("result = %+v, want %d ended in 2 batches", res, len(chosen))
	}
	if len(progress) != 3 || progress[2] != [2]int{1499, 1499} || progress[1][0] != 1000 {
		t.Errorf("progress = %v", progress)
	}
	// On the platform.
	token := mustToken(t, st)
	c := platformClient(t, p)
	active := map[string]bool{}
	cursor := ""
	for {
		l, err := c.WithToken(token).ListSessions(ctx, platformd.ListParams{Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l.Items {
			active[s.ID] = true
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	for _, id := range chosen {
		if active[id] {
			t.Errorf("chosen session %s is still active on the platform", id)
		}
	}
	for _, id := range ids[len(chosen):] {
		if !active[id] {
			t.Errorf("unchosen session %s was ended", id)
		}
	}
	if !active[st.Me.SessionID] {
		t.Error("the caller's own session was ended")
	}
	// The cache already knows (TerminateSelected syncs before returning).
	det, err := ws(t, d).SessionDetails(chosen[0])
	if err != nil {
		t.Fatal(err)
	}
	if det.Session.Status != domain.StatusTerminated || det.Ended == nil || det.Ended.Action != domain.ActionSessionsTerminateSelected ||
		det.Ended.Reason != "sweep of Windows sessions without MFA" || det.Ended.Actor.Email != "admin@acme.test" {
		t.Errorf("details of an ended session = %+v ended by %+v", det.Session.Status, det.Ended)
	}
	if det.Session.DeviceID != nil && (det.Device == nil || det.Device.ID != *det.Session.DeviceID) {
		t.Errorf("details device = %+v for %v", det.Device, det.Session.DeviceID)
	}
	// The second batch (unknown IDs only) ended nothing, so it is not
	// audited (v1.2).
	page, err := ws(t, d).FindAudit(desk.AuditQuery{Action: domain.ActionSessionsTerminateSelected, Limit: 10})
	if err != nil || page.Total != 1 {
		t.Errorf("audit of the two batches = %d %v, want 1", page.Total, err)
	}
	if _, err := ws(t, d).TerminateSelected(ctx, nil, "", nil); codeOf(err) != domain.KindInvalid {
		t.Errorf("empty selection: %v", err)
	}
}

func collectIDs(w *desk.Workspace, q desk.SessionQuery) ([]string, error) {
	var ids []string
	err := w.EachSession(q, func(s domain.Session) error {
		ids = append(ids, s.ID)
		return nil
	})
	return ids, err
}

// "Terminate the N matching" with a few rows unticked: the page sends the
// query and the unticked ids, and the workspace resolves them against the
// index when it summarizes and when it ends — exactly the matching sessions
// but the unticked ones and the caller's own, in batches as Terminate
// selected, reported the same way.
func TestTerminateMatchingEndsTheQueryButTheUnticked(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	d := newEnv(t).Open(t)
	st := signIn(t, d, p, "admin@acme.test")
	syncNow(t, d)
	q := desk.SessionQuery{Status: "active", MFA: "no"}
	ids, err := collectIDs(ws(t, d), q)
	if err != nil || len(ids) < 4 {
		t.Fatalf("matching = %d %v", len(ids), err)
	}
	// Two rows unticked, not the own session: that one, in the query's rows
	// or not, is never ended.
	except := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == st.Me.SessionID })[:2]
	ownMatches := slices.Contains(ids, st.Me.SessionID)
	sum, err := ws(t, d).SummarizeMatching(q, except)
	if err != nil {
		t.Fatal(err)
	}
	wantActive := len(ids) - len(except)
	if ownMatches {
		wantActive--
	}
	if sum.Count != len(ids)-len(except) || sum.Active != wantActive || len(sum.People) == 0 {
		t.Errorf("summary = %+v, want %d selected, %d active", sum, len(ids)-len(except), wantActive)
	}
	// The same as the ids would give.
	byIDs, err := ws(t, d).SummarizeSelection(slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(except, id) }))
	if err != nil || !reflect.DeepEqual(byIDs, sum) {
		t.Errorf("by query %+v, by ids %+v %v", sum, byIDs, err)
	}

	var progress [][2]int
	res, err := ws(t, d).TerminateMatching(ctx, q, except, "sweep without MFA", func(done, total int) {
		progress = append(progress, [2]int{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Terminated != wantActive || res.NotFound != 0 || res.SkippedMe != ownMatches || res.Batches != 1 || len(res.NotEnded) != 0 {
		t.Errorf("result = %+v, want %d ended", res, wantActive)
	}
	if len(progress) != 2 || progress[1] != [2]int{wantActive, wantActive} {
		t.Errorf("progress = %v", progress)
	}
	left, err := collectIDs(ws(t, d), q)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(except)
	if ownMatches {
		want = append(want, st.Me.SessionID)
	}
	slices.Sort(want)
	slices.Sort(left)
	if !slices.Equal(left, want) {
		t.Errorf("still matching after the end: %v, want the unticked %v", left, want)
	}
	for _, id := range except {
		if det, err := ws(t, d).SessionDetails(id); err != nil || det.Session.Status != domain.StatusActive {
			t.Errorf("unticked %s: %v %v", id, det.Session.Status, err)
		}
	}
	// Nothing matches any more (or only what was unticked): nothing to do.
	if _, err := ws(t, d).TerminateMatching(ctx, q, left, "again", nil); codeOf(err) != domain.KindInvalid {
		t.Errorf("an empty match: %v, want invalid_argument", err)
	}
	if _, err := ws(t, d).TerminateMatching(ctx, q, make([]string, desk.MaxSelection+1), "", nil); codeOf(err) != domain.KindInvalid {
		t.Errorf("too many left out: %v, want invalid_argument", err)
	}
}

func mustToken(t *testing.T, st desk.AuthState) string {
	t.Helper()
	tok, err := keychain.OS().Token(st.Profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Sign out everywhere: the person's tokens get 401, the caller's does not;
// the person page counts, the audit log names the person, and the overview
// agrees with the lists.
func TestSignOutEverywhereAndPerson(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	d := newEnv(t).Open(t)
	st := signIn(t, d, p, "admin@acme.test")
	victim1, victim2 := p.Login(t, "acme", "auditor@acme.test"), p.Login(t, "acme", "auditor@acme.test")
	syncNow(t, d)
	person, err := ws(t, d).Person(victim1.User.ID)
	if err != nil || person.User.Email != "auditor@acme.test" || person.ActiveSessions < 2 || person.IsMe {
		t.Fatalf("person = %+v %v", person, err)
	}
	n, err := ws(t, d).SignOutEverywhere(ctx, victim1.User.ID, true, "account compromised")
	if err != nil || n != person.ActiveSessions {
		t.Fatalf("sign out everywhere = %d %v, want %d", n, err, person.ActiveSessions)
	}
	c := platformClient(t, p)
	for _, tok := range []string{victim1.Token, victim2.Token} {
		if _, err := c.WithToken(tok).Me(ctx); err == nil {
			t.Error("a signed-out token still works")
		}
	}
	if _, err := c.WithToken(mustToken(t, st)).Me(ctx); err != nil {
		t.Errorf("the caller's token: %v", err)
	}
	if after, _ := ws(t, d).Person(victim1.User.ID); after.ActiveSessions != 0 {
		t.Errorf("person after = %+v", after)
	}
	page, err := ws(t, d).FindAudit(desk.AuditQuery{TargetUserID: victim1.User.ID, Search: "compromised", Limit: 10})
	if err != nil || page.Total != 1 || page.Items[0].TargetUser.Name == "" {
		t.Errorf("audit for the person = %+v %v", page.Items, err)
	}
	facets, err := ws(t, d).AuditFacets()
	if err != nil || !slices.Contains(facets.Actions, domain.ActionUserSessionsTerminate) || len(facets.Actors) == 0 || len(facets.Targets) == 0 {
		t.Errorf("facets = %+v %v", facets, err)
	}
	// Signing myself out everywhere keeps my session by default.
	me, _ := ws(t, d).Person(st.Me.User.ID)
	if !me.IsMe {
		t.Errorf("my person page: %+v", me)
	}
	if _, err := ws(t, d).SignOutEverywhere(ctx, st.Me.User.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if !d.State().SignedIn {
		t.Error("keeping my own session signed me out")
	}

	o, err := ws(t, d).Overview()
	if err != nil {
		t.Fatal(err)
	}
	act, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "active", Limit: 1})
	noMFA, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "active", MFA: "no", Limit: 1})
	new24, _ := ws(t, d).ListDevices(desk.DeviceQuery{FirstSeenHours: 24, Limit: 1})
	if o.ActiveSessions != act.Total || o.WithoutMFA != noMFA.Total || o.NewDevices24h != new24.Total || len(o.ByCountry) == 0 {
		t.Errorf("overview %d/%d/%d, lists %d/%d/%d", o.ActiveSessions, o.WithoutMFA, o.NewDevices24h, act.Total, noMFA.Total, new24.Total)
	}
	// Each country bar's count is what its link (a filter) shows.
	for _, b := range o.ByCountry {
		key := b.Key
		if key == "" {
			key = desk.Unknown
		}
		page, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "active", Country: key, Limit: 1})
		if page.Total != b.Count {
			t.Errorf("country %q: bar %d, filtered list %d", b.Key, b.Count, page.Total)
		}
	}
}

// collect gathers the rows an Each method walks for q.
func collect[Q, T any](each func(Q, func(T) error) error, q Q) ([]T, error) {
	var out []T
	err := each(q, func(r T) error {
		out = append(out, r)
		return nil
	})
	return out, err
}
