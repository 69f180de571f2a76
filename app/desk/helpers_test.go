package desk_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
	"sessiondesk/internal/testutil"
)

// realKeychain is true when the tests run against the OS keychain (the
// gnome-keyring recipe). Elsewhere they use go-keyring's mock, unless
// SESSIONDESK_REQUIRE_KEYCHAIN=1 demands the real one.
var realKeychain bool

func TestMain(m *testing.M) {
	if err := keychain.Probe(context.Background()); err == nil {
		realKeychain = true
	} else if os.Getenv("SESSIONDESK_REQUIRE_KEYCHAIN") == "1" {
		fmt.Fprintln(os.Stderr, "SESSIONDESK_REQUIRE_KEYCHAIN=1 but no keychain:", err)
		os.Exit(1)
	} else {
		fmt.Fprintln(os.Stderr, "desk tests: no OS keychain; using go-keyring's mock")
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

// recorder is a desk.Events that keeps everything.
type recorder struct {
	mu      sync.Mutex
	auth    []desk.AuthState
	changed []string
	status  []syncer.Status
}

func (r *recorder) AuthChanged(st desk.AuthState) {
	r.mu.Lock()
	r.auth = append(r.auth, st)
	r.mu.Unlock()
}
func (r *recorder) Changed(d string) {
	r.mu.Lock()
	r.changed = append(r.changed, d)
	r.mu.Unlock()
}
func (r *recorder) SyncStatus(st syncer.Status) {
	r.mu.Lock()
	r.status = append(r.status, st)
	r.mu.Unlock()
}
func (r *recorder) lastAuth() (desk.AuthState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.auth) == 0 {
		return desk.AuthState{}, false
	}
	return r.auth[len(r.auth)-1], true
}

type env struct {
	dir    string
	logs   *testutil.SyncBuffer
	events *recorder
	cfg    desk.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &testutil.SyncBuffer{}
	ev := &recorder{}
	return &env{dir: dir, logs: logs, events: ev, cfg: desk.Config{
		ConfigDir: filepath.Join(dir, "config"),
		CacheDir:  filepath.Join(dir, "cache"),
		Events:    ev,
		Log:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Client: httpx.Options{
			CallTimeout: 3 * time.Second, FirstByteTimeout: time.Second,
			RetryWaitMin: 20 * time.Millisecond, RetryWaitMax: 100 * time.Millisecond,
		},
		SyncInterval: time.Hour, // tests sync explicitly unless they say otherwise
		DeviceName:   "desk test", DevicePlatform: "Linux",
	}}
}

// open builds and starts a Desk (a fresh app process over the same dirs).
func (e *env) open(t *testing.T) *desk.Desk {
	t.Helper()
	d, err := desk.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Start(context.Background())
	t.Cleanup(d.Close)
	return d
}

func signIn(t *testing.T, d *desk.Desk, p *platformtest.Platform, email string) desk.AuthState {
	t.Helper()
	st, err := d.SignIn(context.Background(), desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: email, Password: platformtest.Password})
	if err != nil {
		t.Fatalf("SignIn %s: %v", email, err)
	}
	if !st.SignedIn || st.Me == nil {
		t.Fatalf("state after sign-in: %+v", st)
	}
	t.Cleanup(func() {
		if st.Profile != nil {
			keychain.OS().DeleteProfile(st.Profile.ID)
		}
	})
	return st
}

// signInTrusting signs the TOTP-enrolled demo user in as a person does:
// the password first (the platform asks for the code), then the current
// code with "Trust this device". It returns the request without the code,
// for later sign-ins; the profile's keychain items go at cleanup.
func signInTrusting(t *testing.T, d *desk.Desk, p *platformtest.Platform) (desk.SignInRequest, desk.AuthState) {
	t.Helper()
	ctx := context.Background()
	req := desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password}
	if _, err := d.SignIn(ctx, req); codeOf(err) != domain.KindMFARequired {
		t.Fatalf("sign-in without a code: %v", err)
	}
	code := platformtest.MFACode(t, time.Now())
	withCode := req
	withCode.TOTP, withCode.TrustDevice = code, true
	st, err := d.SignIn(ctx, withCode)
	if err != nil {
		t.Fatalf("sign-in with a code and Trust this device: %v", err)
	}
	prof := st.Profile.ID
	t.Cleanup(func() { keychain.OS().DeleteProfile(prof) })
	return req, st
}

func syncNow(t *testing.T, d *desk.Desk) syncer.Status {
	t.Helper()
	st, err := ws(t, d).SyncNow(context.Background())
	if err != nil {
		t.Fatalf("SyncNow: %v", err)
	}
	return st
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func codeOf(err error) string {
	if e, ok := err.(*desk.Error); ok {
		return e.Code
	}
	return ""
}

// ws is d's open workspace; the test fails when none is open.
func ws(t testing.TB, d *desk.Desk) *desk.Workspace {
	t.Helper()
	w, err := d.Workspace()
	if err != nil {
		t.Fatalf("no open workspace: %v", err)
	}
	return w
}
