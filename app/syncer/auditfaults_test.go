package syncer_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
)

// auditPages counts, at the fault proxy, the audit pages asked for by
// cursor ("" is the newest page): which reached the app whole, and which
// of those were asked for again.
type auditPages struct {
	mu     sync.Mutex
	whole  map[string]int
	asked  int
	cut    int
	reread []string
}

func isAudit(path string) bool { return strings.HasSuffix(path, "/audit") }

func (a *auditPages) watch(r *http.Request, cut bool) {
	if !isAudit(r.URL.Path) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := r.URL.Query().Get("cursor")
	a.asked++
	if a.whole[c] > 0 {
		a.reread = append(a.reread, c)
	}
	if cut {
		a.cut++
	} else {
		a.whole[c]++
	}
}

// reset starts counting a new sync.
func (a *auditPages) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.whole, a.asked, a.cut, a.reread = map[string]int{}, 0, 0, nil
}

// With audit answers cut mid-body (more than the client's retries hide),
// the audit log resumes like the sessions and devices feeds: each sync
// goes on from the last audit page that arrived whole, none of those is
// asked for again, the sync completes, and the cache then holds exactly the
// platform's log, each event once — after the first sync and after a
// forced full re-sync alike.
func TestAuditSyncResumesThroughMidBodyResets(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	token := p.Login(t, "acme", "admin@acme.test").Token
	ctx := context.Background()
	direct, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := direct.WithToken(token)
	addEvents := func(n int, what string) {
		t.Helper()
		addAuditEvents(t, admin, n, what)
	}
	platformLog := func() []string { t.Helper(); return platformAuditIDs(t, admin) }

	pages := &auditPages{}
	fp := proxied(t, p, faultproxy.Faults{Match: isAudit, ResetRate: 0.5, Watch: pages.watch})
	fp.Seed(3)
	c, err := platformd.New(fp.URL(), httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Pages of 10 and a page budget that reads the whole log in one sync:
	// what is tested is resuming after a broken page, not the budget.
	r := openFaultSync(t, syncer.Config{Source: platformd.NewProvider(c.WithToken(token)), PageSize: 10, AuditPages: 50})

	syncThroughCuts := func(what string, sync func(context.Context) (syncer.Status, error)) {
		t.Helper()
		pages.reset()
		resets := fp.Resets.Load()
		failed := 0
		for attempt := 0; ; attempt++ {
			if attempt > 60 {
				t.Fatalf("%s: no complete sync in %d attempts", what, attempt)
			}
			st, err := sync(ctx)
			if err == nil {
				break
			}
			failed++
			if !domain.Answered(err) || !st.Online {
				t.Fatalf("%s: sync %d: %v, status %+v; want an answered-but-broken error", what, attempt, err, st)
			}
		}
		pages.mu.Lock()
		defer pages.mu.Unlock()
		t.Logf("%s: %d broken syncs, %d audit requests, %d cut, %d pages whole", what, failed, pages.asked, pages.cut, len(pages.whole))
		if failed == 0 || pages.cut == 0 || int64(pages.cut) != fp.Resets.Load()-resets {
			t.Fatalf("%s: %d broken syncs, %d audit answers cut of %d resets: the test proves nothing", what, failed, pages.cut, fp.Resets.Load()-resets)
		}
		if n := len(pages.reread); n > 0 {
			t.Fatalf("%s: over %d broken syncs, audit pages that had arrived whole were asked for %d more times (the newest page %d times)",
				what, failed, n, len(slices.DeleteFunc(pages.reread, func(c string) bool { return c != "" })))
		}
		want := platformLog()
		cached, err := r.store.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range cached {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, want) || r.audit.Len() != len(want) {
			t.Fatalf("%s: the cache holds %d audit events (index %d), the platform %d; cache %v, platform %v", what, len(got), r.audit.Len(), len(want), got, want)
		}
	}

	addEvents(45, "before the first sync")
	syncThroughCuts("first sync", r.sync.SyncNow)

	addEvents(25, "before the full re-sync")
	syncThroughCuts("full re-sync", r.sync.SyncFull)
	if want := countAll(t, admin); r.sessions.Len() != want {
		t.Fatalf("after the full re-sync: %d sessions, the platform has %d", r.sessions.Len(), want)
	}
}
