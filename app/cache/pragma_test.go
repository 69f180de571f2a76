package cache

import (
	"context"
	"crypto/rand"
	"io/fs"
	"strings"
	"testing"
)

func TestPragmas(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	st, _, err := Open(context.Background(), Options{Dir: t.TempDir(), Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for pragma, want := range map[string]string{"secure_delete": "1", "journal_mode": "wal", "foreign_keys": "1"} {
		var got string
		if err := st.conn().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	var versions int
	st.conn().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&versions)
	if names, _ := fs.Glob(migrationFS, "migrations/*.sql"); versions != len(names) {
		t.Fatalf("schema_migrations has %d rows, want %d", versions, len(names))
	}
}

// The statements every sync and the first screen run must not scan the
// sessions table: at 100,000 rows a scan is tens of milliseconds.
func TestHotStatementsUseIndexes(t *testing.T) {
	key := make([]byte, 32)
	st, _, err := Open(context.Background(), Options{Dir: t.TempDir(), Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range []string{
		"DELETE FROM sessions WHERE updated_at < 1 AND status <> 'active'",
		"DELETE FROM sessions WHERE expires_at < 1",
		"SELECT COUNT(*) FROM sessions WHERE status = 'active' AND expires_at > 1",
		"SELECT id, sealed FROM sessions WHERE status = 'active' AND expires_at > 1 ORDER BY last_active_at DESC, id DESC LIMIT 100 OFFSET 0",
		"SELECT id, sealed FROM sessions ORDER BY last_active_at DESC, id DESC LIMIT 100 OFFSET 0",
	} {
		rows, err := st.conn().Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		for _, p := range plan {
			if p == "SCAN sessions" || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("%s\n  plan: %v", q, plan)
			}
		}
	}
}
