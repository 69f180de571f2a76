// Package desktest is the desk's test environment, for the desk's own tests
// and for the tests of what wraps a desk (app/bind): a Desk over fresh
// config and cache folders with short network timeouts, a recorder of its
// events, its logs kept for the test to read, and the sign-in and sync steps
// every such test begins with, written once.
//
//	e := desktest.NewEnv(t)
//	d := e.Open(t)
//	desktest.SignIn(t, d, p, "admin@acme.test") // p: a platformtest.Platform
//	desktest.SyncNow(t, d)
//
// The keychain is the test binary's business (a real one or go-keyring's
// mock, set up in TestMain); SignIn removes the profile's items at cleanup.
package desktest

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/platformtest"
	"sessiondesk/internal/testutil"
)

// Recorder is a desk.Events that keeps everything.
type Recorder struct {
	mu      sync.Mutex
	auth    []desk.AuthState
	changed []string
	status  []syncer.Status
}

func (r *Recorder) AuthChanged(st desk.AuthState) {
	r.mu.Lock()
	r.auth = append(r.auth, st)
	r.mu.Unlock()
}

func (r *Recorder) Changed(d string) {
	r.mu.Lock()
	r.changed = append(r.changed, d)
	r.mu.Unlock()
}

func (r *Recorder) SyncStatus(st syncer.Status) {
	r.mu.Lock()
	r.status = append(r.status, st)
	r.mu.Unlock()
}

// LastAuth is the last auth state announced; false when none was.
func (r *Recorder) LastAuth() (desk.AuthState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.auth) == 0 {
		return desk.AuthState{}, false
	}
	return r.auth[len(r.auth)-1], true
}

// Env is one workstation: its folders, its logs and events, and the Config
// every Open uses (change it before Open).
type Env struct {
	Dir    string
	Logs   *testutil.SyncBuffer
	Events *Recorder
	Config desk.Config
}

// NewEnv is a fresh workstation in t.TempDir(): debug logs into Logs,
// events into Events, network calls that give up within seconds and retry
// within milliseconds, and no sync by the clock (tests sync explicitly).
func NewEnv(t testing.TB) *Env {
	t.Helper()
	dir := t.TempDir()
	logs := &testutil.SyncBuffer{}
	ev := &Recorder{}
	return &Env{Dir: dir, Logs: logs, Events: ev, Config: desk.Config{
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

// Open builds and starts a Desk (a fresh app process over the same
// folders), closed at cleanup.
func (e *Env) Open(t testing.TB) *desk.Desk {
	t.Helper()
	d, err := desk.New(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	d.Start(context.Background())
	t.Cleanup(d.Close)
	return d
}

// SignIn signs email of p's demo organization "acme" in; the profile's
// keychain items go at cleanup.
func SignIn(t testing.TB, d *desk.Desk, p *platformtest.Platform, email string) desk.AuthState {
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

// SignInTrusting signs the TOTP-enrolled demo user in as a person does:
// the password first (the platform asks for the code), then the current
// code with "Trust this device". It returns the request without the code,
// for later sign-ins; the profile's keychain items go at cleanup.
func SignInTrusting(t testing.TB, d *desk.Desk, p *platformtest.Platform) (desk.SignInRequest, desk.AuthState) {
	t.Helper()
	ctx := context.Background()
	req := desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password}
	if _, err := d.SignIn(ctx, req); CodeOf(err) != domain.KindMFARequired {
		t.Fatalf("sign-in without a code: %v", err)
	}
	withCode := req
	withCode.TOTP, withCode.TrustDevice = platformtest.MFACode(t, time.Now()), true
	st, err := d.SignIn(ctx, withCode)
	if err != nil {
		t.Fatalf("sign-in with a code and Trust this device: %v", err)
	}
	prof := st.Profile.ID
	t.Cleanup(func() { keychain.OS().DeleteProfile(prof) })
	return req, st
}

// SyncNow syncs d's open workspace now, failing the test on an error.
func SyncNow(t testing.TB, d *desk.Desk) syncer.Status {
	t.Helper()
	st, err := Workspace(t, d).SyncNow(context.Background())
	if err != nil {
		t.Fatalf("SyncNow: %v", err)
	}
	return st
}

// Eventually fails the test unless cond holds within the time given.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, within, what, cond)
}

// CodeOf is the code of a desk error ("" for any other error or nil).
func CodeOf(err error) string {
	if e, ok := err.(*desk.Error); ok {
		return e.Code
	}
	return ""
}

// Workspace is d's open workspace; the test fails when none is open.
func Workspace(t testing.TB, d *desk.Desk) *desk.Workspace {
	t.Helper()
	w, err := d.Workspace()
	if err != nil {
		t.Fatalf("no open workspace: %v", err)
	}
	return w
}

// Synced opens a desk in e, signs email of p's "acme" in and syncs once:
// where most tests of a signed-in desk begin.
func (e *Env) Synced(t testing.TB, p *platformtest.Platform, email string) (*desk.Desk, desk.AuthState) {
	t.Helper()
	d := e.Open(t)
	st := SignIn(t, d, p, email)
	SyncNow(t, d)
	return d, st
}

// PlatformClient is a client of p (no token yet: WithToken) that a test
// calls directly, to see or change what the platform holds behind the
// desk's back.
func PlatformClient(t testing.TB, p *platformtest.Platform) *platformd.Client {
	t.Helper()
	c, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
