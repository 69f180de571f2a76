package seed_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/sqlite"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seed.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countSessions(t testing.TB, db store.Store, orgID string, now time.Time) map[string]int {
	t.Helper()
	n := map[string]int{}
	f := store.SessionFilter{Limit: 1000}
	for {
		page, err := db.ListSessions(context.Background(), orgID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			n[s.Status(now)]++
		}
		if page.Next == nil {
			return n
		}
		f.After = page.Next
	}
}

func TestDemo(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := time.Now()
	st, err := seed.Demo(ctx, db, now)
	if err != nil {
		t.Fatal(err)
	}
	// The shape is deterministic: these numbers are what other tests and
	// screenshots can rely on.
	if st.Orgs != 2 || st.Users != 5+60+30 || st.Sessions != 6+320+160 {
		t.Errorf("stats = %+v", st)
	}
	for _, slug := range []string{"acme", "globex"} {
		org, err := db.OrgBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		got := countSessions(t, db, org.ID, now)
		if got[store.StatusActive] != st.Active[slug] || got[store.StatusExpired] != st.Expired[slug] || got[store.StatusTerminated] != st.Terminated[slug] {
			t.Errorf("%s: db %v, stats active %d expired %d terminated %d", slug, got, st.Active[slug], st.Expired[slug], st.Terminated[slug])
		}
		if st.Active[slug] < 100 || st.Expired[slug] == 0 || st.Terminated[slug] == 0 || st.Trusted[slug] == 0 {
			t.Errorf("%s: too little variety: %+v", slug, st)
		}
	}
	acme, _ := db.OrgBySlug(ctx, "acme")
	if acme.Name != "Acme Health" {
		t.Errorf("acme name %q", acme.Name)
	}
	for email, role := range map[string]string{"admin@acme.test": "security_admin", "auditor@acme.test": "auditor", "member@acme.test": "member", "mfa@acme.test": "member"} {
		u, err := db.UserByEmail(ctx, acme.ID, email)
		if err != nil || u.Role != role {
			t.Errorf("%s: %+v %v", email, u, err)
		}
		if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(seed.DemoPassword)) != nil {
			t.Errorf("%s: password is not demo-password", email)
		}
		if (email == "mfa@acme.test") != (u.TOTPSecret == seed.MFASecret) {
			t.Errorf("%s: totp secret %q", email, u.TOTPSecret)
		}
	}
	globex, _ := db.OrgBySlug(ctx, "globex")
	if u, err := db.UserByEmail(ctx, globex.ID, "admin@globex.test"); err != nil || u.Role != "security_admin" || globex.Name != "Globex Clinic" {
		t.Errorf("globex admin: %+v %v %q", u, err, globex.Name)
	}
	users, _ := db.ListUsers(ctx, globex.ID)
	for _, u := range users {
		if !strings.HasSuffix(u.Email, "@globex.test") {
			t.Errorf("globex user %s", u.Email)
		}
	}
	// A second seed is refused.
	if _, err := seed.Demo(ctx, db, now); err == nil {
		t.Error("seeding a non-empty database succeeded")
	}
}

// cheapHash is the demo password's hash at the test cost.
func cheapHash(t testing.TB) []byte { return platformtest.PasswordHash(t) }

func TestDemoIsDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	a, err := seed.DemoWithHash(context.Background(), open(t), now, cheapHash(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := seed.DemoWithHash(context.Background(), open(t), now, cheapHash(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Active["acme"] != b.Active["acme"] || a.Trusted["globex"] != b.Trusted["globex"] || a.Devices != b.Devices {
		t.Errorf("two seeds differ: %+v vs %+v", a, b)
	}
}

func TestLarge(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	start := time.Now()
	st, err := seed.Large(ctx, db, time.Now(), seed.LargeOptions{Slug: "big", Sessions: 5000, Devices: 1000, PasswordHash: cheapHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("5,000 sessions seeded in %v", time.Since(start))
	org, err := db.OrgBySlug(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if got := countSessions(t, db, org.ID, time.Now()); got[store.StatusActive] != 5000 || st.Devices != 1000 {
		t.Errorf("sessions %v, devices %d", got, st.Devices)
	}
	if _, err := seed.Large(ctx, db, time.Now(), seed.LargeOptions{Slug: "big", Sessions: 1, PasswordHash: cheapHash(t)}); err == nil {
		t.Error("seeding an existing slug succeeded")
	}
}

func BenchmarkLarge100k(b *testing.B) {
	hash, err := store.HashPassword(seed.DemoPassword, 0)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		db := open(b)
		if _, err := seed.Large(context.Background(), db, time.Now(), seed.LargeOptions{Slug: "big", Sessions: 100_000, Devices: 20_000, PasswordHash: hash}); err != nil {
			b.Fatal(err)
		}
	}
}
