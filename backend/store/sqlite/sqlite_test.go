package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

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
		if n != 1 || v != 1 {
			t.Errorf("schema_version rows %d, max %d", n, v)
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

func TestUpdatedAtStrictlyIncreasesUnderConcurrentWrites(t *testing.T) {
	db := openTest(t)
	org, u := arrange(t, db, 200)
	page, err := db.ListSessions(context.Background(), org.ID, store.SessionFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stamps := map[int64]string{}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(page.Items); i += 4 {
				s, err := db.TerminateSession(context.Background(), org.ID, page.Items[i].ID, store.Actor{UserID: u.ID})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, dup := stamps[s.UpdatedAt.UnixNano()]; dup {
					t.Errorf("updated_at %v shared by %s and %s", s.UpdatedAt, other, s.ID)
				}
				stamps[s.UpdatedAt.UnixNano()] = s.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(stamps) != 200 {
		t.Errorf("%d distinct stamps", len(stamps))
	}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	db := openTest(t)
	arrange(t, db, 10)
	for name, q := range map[string]string{
		"sessions page": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.terminated_at IS NULL AND s.expires_at > ?
			AND (s.created_at, s.id) < (?, ?) ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
		"sessions feed": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.updated_at > ? AND (s.updated_at, s.id) > (?, ?)
			ORDER BY s.updated_at, s.id LIMIT ?`,
		"sessions by user": `SELECT ` + sessionCols + sessionFrom + `WHERE s.org_id = ? AND s.user_id = ? ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
		"devices page":     `SELECT ` + deviceCols + deviceFrom + `WHERE d.org_id = ? AND (d.first_seen_at, d.id) < (?, ?) ORDER BY d.first_seen_at DESC, d.id DESC LIMIT ?`,
		"devices feed":     `SELECT ` + deviceCols + deviceFrom + `WHERE d.org_id = ? AND d.updated_at > ? ORDER BY d.updated_at, d.id LIMIT ?`,
		"audit page":       `SELECT a.id FROM audit_events a JOIN users u ON u.id = a.actor_id WHERE a.org_id = ? AND (a.at, a.id) < (?, ?) ORDER BY a.at DESC, a.id DESC LIMIT ?`,
		"token":            `SELECT s.id FROM sessions s WHERE s.token_hash = ?`,
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

func BenchmarkWalk100kPages1000(b *testing.B) {
	db, org, _ := benchDB(b, 100_000)
	ctx := context.Background()
	for range b.N {
		f := store.SessionFilter{Limit: 1000}
		total := 0
		for {
			page, err := db.ListSessions(ctx, org.ID, f)
			if err != nil {
				b.Fatal(err)
			}
			total += len(page.Items)
			if page.Next == nil {
				break
			}
			f.After = page.Next
		}
		if total != 100_000 {
			b.Fatalf("walked %d", total)
		}
	}
}
