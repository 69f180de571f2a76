package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/backend/store"
)

// A password reset or TOTP re-enrolment ends the user's active sessions,
// untrusts the user's devices (forgetting their secrets) and audits it, all
// in one transaction; other users are untouched.
func TestResetCredentialRevokes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		action string
		reset  func(db *DB, userID string, by store.Actor) (store.Revocation, error)
	}{
		{store.ActionUserPasswordReset, func(db *DB, id string, by store.Actor) (store.Revocation, error) {
			return db.SetPassword(ctx, id, []byte("new-hash"), by)
		}},
		{store.ActionUserTOTPReset, func(db *DB, id string, by store.Actor) (store.Revocation, error) {
			return db.SetTOTPSecret(ctx, id, "JBSWY3DPEHPK3PXP", by)
		}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			db := openTest(t)
			org, err := db.CreateOrg(ctx, "o", "O")
			if err != nil {
				t.Fatal(err)
			}
			mk := func(email string) store.User {
				u, err := db.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: email, Name: email, Role: "member", PasswordHash: []byte("x")})
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
			u, other := mk("u@o.test"), mk("other@o.test")
			secret := sha256.Sum256([]byte("device secret"))
			signIn := func(u store.User, trust bool) (store.Session, store.Device) {
				in := store.SignIn{UserID: u.ID, TokenHash: []byte(store.NewID("tok")), DeviceName: "d", DevicePlatform: "p",
					IP: "192.0.2.1", Idle: time.Hour, Absolute: 2 * time.Hour}
				if trust {
					in.TrustDevice, in.TrustSecretHash = true, secret[:]
				}
				s, d, err := db.SignIn(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				return s, d
			}
			s1, d1 := signIn(u, true)
			s2, _ := signIn(u, false)
			otherSess, od := signIn(other, true)
			if got, _ := db.DeviceOfUser(ctx, u.ID, d1.ID); !got.Trusted() || !bytes.Equal(got.TrustSecretHash, secret[:]) {
				t.Fatalf("trusted device before reset: %+v", got)
			}

			rv, err := tc.reset(db, u.ID, store.Actor{Reason: "cli"})
			if err != nil {
				t.Fatal(err)
			}
			if rv != (store.Revocation{Sessions: 2, Devices: 1}) {
				t.Errorf("revocation = %+v, want 2 sessions, 1 device", rv)
			}
			for _, id := range []string{s1.ID, s2.ID} {
				s, err := db.GetSession(ctx, org.ID, id)
				if err != nil || s.TerminatedAt == nil || s.TerminatedBy != nil {
					t.Errorf("session %s after reset: terminated %v by %v (%v)", id, s.TerminatedAt, s.TerminatedBy, err)
				}
			}
			if got, _ := db.DeviceOfUser(ctx, u.ID, d1.ID); got.Trusted() || got.TrustSecretHash != nil {
				t.Errorf("device after reset: trusted %v secret hash %x", got.Trusted(), got.TrustSecretHash)
			}
			if s, _ := db.GetSession(ctx, org.ID, otherSess.ID); s.TerminatedAt != nil {
				t.Errorf("another user's session was ended")
			}
			if got, _ := db.DeviceOfUser(ctx, other.ID, od.ID); !got.Trusted() {
				t.Errorf("another user's device was untrusted")
			}
			page, err := db.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 10})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("audit = %+v %v", page.Items, err)
			}
			e := page.Items[0]
			if e.Action != tc.action || e.TargetID != u.ID || e.Count != 2 || e.Reason != "cli" ||
				e.Actor.ID != store.SystemActorID || e.Actor.Name == "" || e.Actor.Email != "" {
				t.Errorf("audit event = %+v", e)
			}

			// A user's own action still reads back with the user as actor.
			if _, err := db.TerminateSession(ctx, org.ID, otherSess.ID, store.Actor{UserID: other.ID}); err != nil {
				t.Fatal(err)
			}
			page, _ = db.ListAudit(ctx, org.ID, store.AuditFilter{Limit: 1})
			if a := page.Items[0].Actor; a.ID != other.ID || a.Email != "other@o.test" {
				t.Errorf("user actor = %+v", a)
			}
			if _, err := tc.reset(db, store.NewID(store.PrefixUser), store.Actor{}); store.ErrorCode(err) != store.ENotFound {
				t.Errorf("unknown user: %v", err)
			}
		})
	}
}

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
