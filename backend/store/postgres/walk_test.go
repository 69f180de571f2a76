package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/seed"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres/pgtest"
)

// Pages of active sessions in creation order (the default list, which
// clients walk page by page) must read sessions through sessions_org_active
// and nothing else: through session_keys each row cost a primary-key probe
// of sessions, half of the database time of a walk at 100,000 sessions. And
// a terminate-all must add nothing to that index, since keeping indexes that
// a terminate-all writes off sessions is what session_keys is for.
func TestActivePagesReadSessionsThroughTheirPartialIndex(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	db, err := Open(ctx, pgtest.NewDatabase(t), Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := seed.Large(ctx, db, now, seed.LargeOptions{Slug: "big", Sessions: 5000, Devices: 40, PasswordHash: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	org, err := db.OrgBySlug(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	first := store.SessionFilter{ActiveOnly: true, Now: now, Limit: 1000}
	page, err := db.ListSessions(ctx, org.ID, first)
	if err != nil || len(page.Items) != 1000 || page.Next == nil {
		t.Fatalf("first page: %d sessions, next %v, %v", len(page.Items), page.Next, err)
	}
	next := first
	next.After = page.Next
	small := first
	small.Limit = 100
	for name, f := range map[string]store.SessionFilter{"first page": first, "next page": next, "page of 100": small} {
		query, a, _, _ := sessionsPage(org.ID, f)
		var plan string
		if err := db.pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+query, a...).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, `"sessions_org_active"`) || strings.Contains(plan, "session_keys") || strings.Contains(plan, `"Sort"`) {
			t.Errorf("%s: the plan does not walk sessions_org_active alone:\n%s", name, plan)
		}
	}

	size := func() int64 {
		var n int64
		if err := db.pool.QueryRow(ctx, `SELECT pg_relation_size('sessions_org_active')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	admin, err := db.UserByEmail(ctx, org.ID, "admin@big.test")
	if err != nil {
		t.Fatal(err)
	}
	before := size()
	if n, err := db.TerminateAll(ctx, org.ID, "", store.Actor{UserID: admin.ID}); err != nil || n != 5000 {
		t.Fatalf("terminate all: %d %v", n, err)
	}
	if after := size(); after != before {
		t.Errorf("terminate-all of 5000 sessions grew sessions_org_active from %d to %d bytes; its row versions must stay outside the index", before, after)
	}
	if page, err := db.ListSessions(ctx, org.ID, first); err != nil || len(page.Items) != 0 {
		t.Errorf("active sessions after terminate-all: %d %v", len(page.Items), err)
	}
}
