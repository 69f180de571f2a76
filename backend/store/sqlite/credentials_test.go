package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"sessiondesk/backend/store"
)

// A database at schema version 1 keeps its audit events (now with a nullable
// actor) and its trusted devices (now without a secret) when migrated.
func TestMigrationFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(v1),
		`CREATE TABLE schema_version (version INTEGER NOT NULL)`, `INSERT INTO schema_version VALUES (1)`,
		`INSERT INTO orgs VALUES ('org_a', 'a', 'A', 1)`,
		`INSERT INTO users (id, org_id, email, name, role, password_hash, created_at) VALUES ('usr_a', 'org_a', 'a@a.test', 'A', 'member', x'00', 1)`,
		`INSERT INTO devices VALUES ('dev_a', 'org_a', 'usr_a', 'd', 'p', 5, 1, 1, '192.0.2.1', 1)`,
		`INSERT INTO audit_events VALUES ('aud_a', 'org_a', 7, 'usr_a', 'device.untrust', 'dev_a', 1, 'old')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.ListAudit(ctx, "org_a", store.AuditFilter{Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].Actor.ID != "usr_a" || page.Items[0].Reason != "old" {
		t.Fatalf("audit after migration = %+v %v", page.Items, err)
	}
	// v1.1 (migration 4) fills the target of earlier events from their rows.
	if e := page.Items[0]; e.TargetUser == nil || e.TargetUser.ID != "usr_a" || e.TargetLabel != "d" {
		t.Errorf("audit target after migration = %+v label %q", e.TargetUser, e.TargetLabel)
	}
	d, err := db.DeviceOfUser(ctx, "usr_a", "dev_a")
	if err != nil || !d.Trusted() || d.TrustSecretHash != nil {
		t.Errorf("device after migration = %+v %v", d, err)
	}
	var idx int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = 'audit_org_at'`).Scan(&idx); err != nil || idx != 1 {
		t.Errorf("audit index after migration: %d %v", idx, err)
	}
}
