package sqlite

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/backend/store/storetest"
)

// TestStore runs the shared store suite on SQLite files: each test gets
// its own file, and "another handle" is a second DB opened on it, as a
// second process would.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t testing.TB, clock func() time.Time) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "store.db")
		open := func() store.Store {
			db, err := Open(context.Background(), path, Options{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open
	})
}

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesPrivateFileAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	for range 2 {
		db, err := Open(context.Background(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n, v int
		if err := db.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		// Versions are the files' number prefixes; branches may leave gaps.
		names, _ := fs.Glob(migrations, "migrations/*.sql")
		last, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(names[len(names)-1], "migrations/"), "_", 2)[0])
		if n != len(names) || v != last {
			t.Errorf("schema_version rows %d, max %d; want %d migrations up to %d", n, v, len(names), last)
		}
		var fk int
		if err := db.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d %v", fk, err)
		}
		var mode string
		if err := db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q %v", mode, err)
		}
		db.Close()
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// arrange creates an org with one user and n sessions through BulkLoad.
func arrange(t testing.TB, db *DB, n int) (store.Org, store.User) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	org := store.Org{ID: store.NewID(store.PrefixOrg), Slug: "o", Name: "O", CreatedAt: now}
	u := store.NewUser{ID: store.NewID(store.PrefixUser), OrgID: org.ID, Email: "u@o.test", Name: "U", Role: "member", PasswordHash: []byte("x")}
	b := store.Bulk{Orgs: []store.Org{org}, Users: []store.NewUser{u}}
	for i := range n {
		created := now.Add(-time.Duration(n-i) * time.Second)
		h := []byte(store.NewID("tok"))
		b.Sessions = append(b.Sessions, store.BulkSession{TokenHash: h, Session: store.Session{
			ID: store.NewID(store.PrefixSession), OrgID: org.ID, User: store.User{ID: u.ID}, IP: "192.0.2.1",
			Client: "Firefox 133 on Linux", CreatedAt: created, LastActiveAt: created,
			ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(2 * time.Hour)}})
	}
	if err := db.BulkLoad(ctx, b); err != nil {
		t.Fatal(err)
	}
	return org, store.User{ID: u.ID, OrgID: org.ID}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	db := openTest(t)
	arrange(t, db, 10)
	for name, q := range map[string]string{
		"sessions page": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.terminated_at IS NULL AND s.expires_at > ?
			AND (s.created_at, s.id) < (?, ?) ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
		"sessions feed": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.updated_at > ? AND (s.updated_at, s.id) > (?, ?)
			ORDER BY s.updated_at, s.id LIMIT ?`,
		"sessions feed after cursor": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND (s.updated_at, s.id) > (?, ?)
			ORDER BY s.updated_at, s.id LIMIT ?`,
		"devices feed after cursor": `SELECT ` + deviceCols + deviceFrom + `WHERE d.org_id = ? AND (d.updated_at, d.id) > (?, ?)
			ORDER BY d.updated_at, d.id LIMIT ?`,
		"sessions by user": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.user_id = ? ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
		"devices page":     `SELECT ` + deviceCols + deviceFrom + `WHERE d.org_id = ? AND (d.first_seen_at, d.id) < (?, ?) ORDER BY d.first_seen_at DESC, d.id DESC LIMIT ?`,
		"devices feed":     `SELECT ` + deviceCols + deviceFrom + `WHERE d.org_id = ? AND d.updated_at > ? ORDER BY d.updated_at, d.id LIMIT ?`,
		"audit page":       `SELECT a.id FROM audit_events a JOIN users u ON u.id = a.actor_id WHERE a.org_id = ? AND (a.at, a.id) < (?, ?) ORDER BY a.at DESC, a.id DESC LIMIT ?`,
		"token":            `SELECT s.id FROM sessions s WHERE s.token_hash = ?`,
		"ended sessions":   endedIDsQuery,
	} {
		rows, err := db.db.Query(`EXPLAIN QUERY PLAN `+q, "a", "b", "c", "d", "e")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "INDEX") || strings.HasPrefix(p, "SCAN u") {
			t.Errorf("%s: plan %s", name, p)
		}
		t.Logf("%s: %s", name, p)
	}
}

func TestTerminateAllIsOneStatement(t *testing.T) {
	db := openTest(t)
	org, u := arrange(t, db, 20_000)
	start := time.Now()
	n, err := db.TerminateAll(context.Background(), org.ID, "", store.Actor{UserID: u.ID, Reason: "r"})
	if err != nil || n != 20_000 {
		t.Fatalf("terminated %d, %v", n, err)
	}
	t.Logf("terminate-all of 20,000 took %v", time.Since(start))
	page, err := db.ListAudit(context.Background(), org.ID, store.AuditFilter{Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].Count != 20_000 {
		t.Fatalf("audit %+v %v", page.Items, err)
	}
}

func benchDB(b *testing.B, n int) (*DB, store.Org, store.User) {
	b.Helper()
	db := openTest(b)
	org, u := arrange(b, db, n)
	b.ResetTimer()
	return db, org, u
}

func BenchmarkTerminateAll100k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		db, org, u := benchDB(b, 100_000)
		b.StartTimer()
		if _, err := db.TerminateAll(context.Background(), org.ID, "", store.Actor{UserID: u.ID}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListSessionsPage100(b *testing.B) {
	db, org, _ := benchDB(b, 100_000)
	ctx := context.Background()
	page, _ := db.ListSessions(ctx, org.ID, store.SessionFilter{Limit: 100, ActiveOnly: true, Now: time.Now()})
	for range b.N {
		if _, err := db.ListSessions(ctx, org.ID, store.SessionFilter{Limit: 100, ActiveOnly: true, Now: time.Now(), After: page.Next}); err != nil {
			b.Fatal(err)
		}
	}
}

// countWalked pages through the sessions f selects and counts them.
func countWalked(b *testing.B, db *DB, orgID string, f store.SessionFilter) int {
	b.Helper()
	total := 0
	for {
		page, err := db.ListSessions(context.Background(), orgID, f)
		if err != nil {
			b.Fatal(err)
		}
		total += len(page.Items)
		if page.Next == nil {
			return total
		}
		f.After = page.Next
	}
}

func BenchmarkWalk100kPages1000(b *testing.B) {
	db, org, _ := benchDB(b, 100_000)
	for range b.N {
		f := store.SessionFilter{Limit: 1000}
		if total := countWalked(b, db, org.ID, f); total != 100_000 {
			b.Fatalf("walked %d", total)
		}
	}
}

// schemaOf is the database's schema as SQLite keeps it, without the
// planner's statistics (sqlite_stat1, which BulkLoad's ANALYZE makes).
func schemaOf(t testing.TB, db *DB) map[string]string {
	t.Helper()
	rows, err := db.db.Query(`SELECT name, COALESCE(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		out[name] = sql
	}
	return out
}

func TestLargeBulkLoadRebuildsTheSameIndexes(t *testing.T) {
	db := openTest(t)
	before := schemaOf(t, db)
	org, _ := arrange(t, db, bulkIndexThreshold) // takes the drop-and-rebuild path
	after := schemaOf(t, db)
	if len(before) != len(after) {
		t.Errorf("schema has %d objects after the load, %d before", len(after), len(before))
	}
	for name, sql := range before {
		if after[name] != sql {
			t.Errorf("%s: %q after the load, %q before", name, after[name], sql)
		}
	}
	// The load left the planner statistics of sessions (see BulkLoad).
	var stats int
	if err := db.db.QueryRow(`SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'sessions'`).Scan(&stats); err != nil || stats == 0 {
		t.Errorf("statistics of sessions after the load: %d rows, %v", stats, err)
	}
	var ok string
	if err := db.db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q %v", ok, err)
	}
	// A duplicate token hash is still refused, and the whole load with it.
	page, err := db.ListSessions(context.Background(), org.ID, store.SessionFilter{Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatal(page, err)
	}
	var tok []byte
	if err := db.db.QueryRow(`SELECT token_hash FROM sessions WHERE id = ?`, page.Items[0].ID).Scan(&tok); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	org2 := store.Org{ID: store.NewID(store.PrefixOrg), Slug: "o2", Name: "O2", CreatedAt: now}
	u := store.NewUser{ID: store.NewID(store.PrefixUser), OrgID: org2.ID, Email: "u@o2.test", Name: "U", Role: "member", PasswordHash: []byte("x")}
	b := store.Bulk{Orgs: []store.Org{org2}, Users: []store.NewUser{u}}
	for i := range bulkIndexThreshold {
		h := []byte(store.NewID("tok"))
		if i == 7 {
			h = tok
		}
		b.Sessions = append(b.Sessions, store.BulkSession{TokenHash: h, Session: store.Session{
			ID: store.NewID(store.PrefixSession), OrgID: org2.ID, User: store.User{ID: u.ID}, IP: "192.0.2.1",
			CreatedAt: now, LastActiveAt: now, ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(2 * time.Hour)}})
	}
	if err := db.BulkLoad(context.Background(), b); store.ErrorCode(err) != store.EConflict {
		t.Errorf("load with a duplicate token hash: %v", err)
	}
	if _, err := db.OrgBySlug(context.Background(), "o2"); !store.IsNotFound(err) {
		t.Errorf("the failed load left its organization behind: %v", err)
	}
	if got := schemaOf(t, db); len(got) != len(before) {
		t.Errorf("the failed load changed the schema: %d objects, want %d", len(got), len(before))
	}
}

// BenchmarkFeedAfterTerminateAll100k walks the updated_since feed, 1000 at
// a time, after terminate-all gave 100,000 sessions one shared updated_at.
func BenchmarkFeedAfterTerminateAll100k(b *testing.B) {
	db, org, u := benchDB(b, 100_000)
	ctx := context.Background()
	since := time.Now().Add(-time.Second)
	if _, err := db.TerminateAll(ctx, org.ID, "", store.Actor{UserID: u.ID}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		f := store.SessionFilter{Limit: 1000, UpdatedSince: &since}
		if total := countWalked(b, db, org.ID, f); total != 100_000 {
			b.Fatalf("walked %d", total)
		}
	}
}
