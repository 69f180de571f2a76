package bind_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessiondesk/app/bind"
	"sessiondesk/app/cache"
	"sessiondesk/app/desk"
	"sessiondesk/app/desk/desktest"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/platformtest"
)

// The keychain is not the subject here: go-keyring's mock stands in for it.
func TestMain(m *testing.M) {
	keyring.MockInit()
	os.Exit(m.Run())
}

type emitted struct {
	name string
	data []any
}

type fakeEmitter struct {
	mu  sync.Mutex
	got []emitted
}

func (f *fakeEmitter) Emit(name string, data ...any) {
	f.mu.Lock()
	f.got = append(f.got, emitted{name, data})
	f.mu.Unlock()
}

func (f *fakeEmitter) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.got {
		out = append(out, e.name)
	}
	return out
}

type fakeDialogs struct{ path string }

func (f fakeDialogs) SaveFile(title, name string) (string, error) { return f.path, nil }

func TestFormatError(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{&desk.Error{Code: "mfa_required", Message: "code", Field: "totp"}, "mfa_required"},
		{&domain.Error{Status: 403, Kind: domain.KindPermissionDenied, Message: "no"}, "permission_denied"},
		{&domain.UnreachableError{Err: errors.New("refused")}, "offline"},
		{errors.New("boom"), "internal"},
	}
	for _, c := range cases {
		var ue *bind.UIError
		switch v := bind.FormatError(c.err).(type) {
		case *bind.UIError:
			ue = v
		}
		if ue == nil || ue.Code != c.code {
			t.Errorf("%v → %+v", c.err, ue)
		}
	}
}

func TestServicesAgainstPlatform(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := desktest.NewEnv(t)
	dir := e.Dir
	events := &bind.Events{}
	em := &fakeEmitter{}
	events.SetEmitter(em)
	e.Config.Events = events
	d := e.Open(t)
	auth := bind.NewAuthService(d)
	csvPath := filepath.Join(dir, "out.csv")
	sessions := bind.NewSessionsService(d, fakeDialogs{path: csvPath})
	syncSvc := bind.NewSyncService(d)
	bind.Start(context.Background(), auth, sessions, syncSvc)

	_, err := auth.SignIn(bind.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password})
	var ue *bind.UIError
	if !errors.As(err, &ue) || ue.Code != "mfa_required" || ue.Field != "totp" {
		t.Fatalf("mfa sign-in: %#v", err)
	}
	st, err := auth.SignIn(bind.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil || !st.SignedIn || st.Profile == nil || st.Me == nil {
		t.Fatalf("sign-in: %+v %v", st, err)
	}
	if _, err := syncSvc.SyncNow(); err != nil {
		t.Fatal(err)
	}
	page, err := sessions.List(bind.SessionQuery{Status: "all", Sort: "user", Limit: 5})
	if err != nil || len(page.Items) != 5 || page.Total < 5 {
		t.Fatalf("List: %+v %v", page, err)
	}
	path, err := sessions.ExportCSV(bind.SessionQuery{Status: "all"})
	if err != nil || path != csvPath {
		t.Fatalf("ExportCSV: %q %v", path, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("export mode %v", fi.Mode().Perm())
	}
	f, _ := os.Open(path)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != page.Total+1 {
		t.Fatalf("csv rows %d, want %d (%v)", len(rows), page.Total+1, err)
	}
	devices := bind.NewDevicesService(d, fakeDialogs{path: filepath.Join(dir, "devices.csv")})
	bind.Start(context.Background(), devices)
	dp, err := devices.List(bind.DeviceQuery{Trusted: "all", Sort: "name", Limit: 3})
	if err != nil || len(dp.Items) != 3 || dp.TrustedCount == 0 {
		t.Fatalf("devices: %+v %v", dp, err)
	}
	if path, err := devices.ExportCSV(bind.DeviceQuery{}); err != nil || path == "" {
		t.Fatalf("devices export: %q %v", path, err)
	}
	if _, err := devices.List(bind.DeviceQuery{Trusted: "maybe"}); !errors.As(err, &ue) || ue.Code != "invalid_argument" {
		t.Fatalf("bad filter: %v", err)
	}
	if _, err := bind.NewAuditService(d).List(0, 10); err != nil {
		t.Fatal(err)
	}
	// The auth:changed payload is the bound AuthState (camelCase JSON).
	em.mu.Lock()
	var payload any
	for _, e := range em.got {
		if e.name == bind.EventAuthChanged && len(e.data) == 1 {
			payload = e.data[0]
		}
	}
	em.mu.Unlock()
	if as, ok := payload.(bind.AuthState); !ok || !as.SignedIn || as.Profile == nil {
		t.Fatalf("auth:changed payload = %#v", payload)
	}
	names := strings.Join(em.names(), ",")
	for _, want := range []string{bind.EventAuthChanged, bind.EventSessionsChanged, bind.EventDevicesChanged, bind.EventSyncStatus} {
		if !strings.Contains(names, want) {
			t.Errorf("event %s not emitted (got %s)", want, names)
		}
	}
	if err := auth.SignOut(false); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.List(bind.SessionQuery{}); !errors.As(err, &ue) || ue.Code != "unauthenticated" {
		t.Fatalf("List after sign-out: %v", err)
	}
}

// BenchmarkSessionsList measures SessionsService.List (search + sort over the
// decrypted in-memory index) with 100,000 cached sessions.
func BenchmarkSessionsList(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	cfgDir, cacheDir := filepath.Join(dir, "cfg"), filepath.Join(dir, "cache")
	prof := profile.New("http://127.0.0.1:1", "acme", "bench@acme.test", false)
	ps, _ := profile.Open(cfgDir)
	if err := ps.Save(prof); err != nil {
		b.Fatal(err)
	}
	kc := keychain.OS()
	kc.SetToken(prof.ID, "bench-token")
	key, _, err := kc.CacheKey(prof.ID)
	if err != nil {
		b.Fatal(err)
	}
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: cacheDir, Profile: prof.ID, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	clients := []string{"Firefox 133 on Windows", "Chrome 131 on macOS", "Safari 18 on iOS", "Edge 131 on Windows"}
	cities := []string{"Berlin, DE", "Lyon, FR", "Austin, US", ""}
	rows := make([]domain.Session, n)
	for i := range rows {
		status := domain.StatusActive
		if i%7 == 0 {
			status = domain.StatusTerminated
		}
		rows[i] = domain.Session{
			ID: fmt.Sprintf("ses_%06d", i), User: domain.Person{ID: fmt.Sprintf("usr_%05d", i%20000), Email: fmt.Sprintf("user%05d@acme.test", i%20000), Name: fmt.Sprintf("User %05d", i%20000)},
			IP: fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256), Client: clients[i%4], Location: cities[i%4],
			CreatedAt: now.Add(-time.Duration(i) * time.Minute), LastActiveAt: now.Add(-time.Duration(i%5000) * time.Second),
			ExpiresAt: now.Add(24 * time.Hour), UpdatedAt: now.Add(-time.Duration(i) * time.Second), Status: status,
		}
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: rows, SessionsMark: now}); err != nil {
		b.Fatal(err)
	}
	st.Close()

	// An offline start (nothing listens on port 1): the lists come from the cache.
	d, err := desk.New(desk.Config{ConfigDir: cfgDir, CacheDir: cacheDir, SyncInterval: time.Hour,
		Client: httpx.Options{RetryMax: -1, CallTimeout: time.Second}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	d.Start(context.Background())
	b.Logf("offline start with %d cached sessions (decrypt + index): %v", n, time.Since(start))
	defer d.Close()
	svc := bind.NewSessionsService(d, nil)
	if p, err := svc.List(bind.SessionQuery{Status: "all", Limit: 1}); err != nil || p.Total != n {
		b.Fatalf("List: total %d, %v", p.Total, err)
	}

	bench := func(name string, qs ...bind.SessionQuery) {
		b.Run(name, func(b *testing.B) {
			// Warm the sort orders (built once per sync, not per query).
			for _, q := range qs {
				svc.List(q)
			}
			b.ResetTimer()
			var worst time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				p, err := svc.List(qs[i%len(qs)])
				if el := time.Since(t0); el > worst {
					worst = el
				}
				if err != nil || p.Total == 0 {
					b.Fatalf("List: %d, %v", p.Total, err)
				}
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
	// Alternating queries defeat the memo: every call is a fresh scan.
	bench("search+sort/fresh", bind.SessionQuery{Search: "user0012", Sort: "user", Status: "all", Limit: 100},
		bind.SessionQuery{Search: "berlin", Sort: "ip", Desc: true, Status: "active", Limit: 100})
	bench("no-search/sort-last_active/fresh", bind.SessionQuery{Status: "active", Limit: 100},
		bind.SessionQuery{Status: "all", Sort: "created_at", Limit: 100})
	bench("paging-same-query", bind.SessionQuery{Search: "firefox", Sort: "client", Status: "all", Offset: 5000, Limit: 100})
}
