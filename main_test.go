package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessiondesk/app/cache"
	"sessiondesk/app/keychain"
)

// TestMain runs on the OS keychain when there is one (the private D-Bus
// recipe), else on go-keyring's mock, so that the app keeps its cache on
// disk as it would on a desktop, unless SESSIONDESK_REQUIRE_KEYCHAIN=1
// demands the real one.
func TestMain(m *testing.M) {
	if err := keychain.Probe(context.Background()); err != nil {
		if os.Getenv("SESSIONDESK_REQUIRE_KEYCHAIN") == "1" {
			fmt.Fprintln(os.Stderr, "SESSIONDESK_REQUIRE_KEYCHAIN=1 but no keychain:", err)
			os.Exit(1)
		}
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	f, err := parseFlags([]string{"-server", "https://p.example", "-data-dir", "/tmp/x", "-sync-interval", "5s",
		"-demo-new-device-every", "0", "-assetdir", "frontend/dist", "-devserver", "localhost:34115"})
	if err != nil {
		t.Fatal(err)
	}
	if f.server != "https://p.example" || f.dataDir != "/tmp/x" || f.syncInterval != 5*time.Second || f.newDeviceEvery != 0 {
		t.Fatalf("flags = %+v", f)
	}
	f, err = parseFlags(nil)
	if err != nil || f.server != "" || f.syncInterval != 30*time.Second || f.newDeviceEvery != time.Minute {
		t.Fatalf("defaults = %+v %v", f, err)
	}
	if f, err := parseFlags([]string{"-version"}); err != nil || !f.version {
		t.Fatalf("-version = %+v %v", f, err)
	}
	if _, err := parseFlags([]string{"-sync-interval", "1ms"}); err == nil {
		t.Fatal("accepted a 1ms sync interval")
	}
	if _, err := parseFlags([]string{"-server", "ftp://p.example"}); err == nil {
		t.Fatal("accepted an ftp:// server")
	}
	d, _ := resolveDirs("/data")
	if d.config != "/data" || d.cache != filepath.Join("/data", "cache") || d.demoDB != filepath.Join("/data", "demo-platform.db") {
		t.Fatalf("dirs = %+v", d)
	}
}

// The app's start-up without a window: the demo platform starts, the app
// signs in as the demo account through the real sign-in path, and shutdown
// stops the sync and the demo platform. A second start on the same data
// directory signs in again (resumed from the stored token, or anew when
// there is no keychain).
func TestAppStartsTheDemoAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		a := startDemo(t, dir, nil)
		st := a.desk.State()
		if !st.SignedIn || !st.Demo || st.Me == nil || st.Me.User.Email != demoEmail {
			t.Fatalf("run %d: after start: %+v", run, st)
		}
		url := a.demoPlatform().URL()
		if resp, err := http.Get(url + "/healthz"); err != nil {
			t.Fatalf("run %d: demo platform not answering: %v", run, err)
		} else {
			resp.Body.Close()
		}
		a.shutdown()
		if a.desk.State().SignedIn {
			t.Errorf("run %d: workspace still open after shutdown", run)
		}
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("run %d: demo platform still answers after shutdown", run)
		}
	}
}

// startDemo builds the app in demo mode over dir, lets prepare change it
// before it starts (nil: nothing to change), starts it and waits until the
// start has finished.
func startDemo(t *testing.T, dir string, prepare func(*app)) *app {
	t.Helper()
	f, err := parseFlags([]string{"-data-dir", dir, "-demo-new-device-every", "0"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(a)
	}
	a.startInBackground()
	select {
	case <-a.ready:
	case <-time.After(2 * time.Minute):
		t.Fatal("start did not finish")
	}
	return a
}

// Started with -server, the app's sign-in form starts with that address:
// the bound AuthState carries it to the UI once the start has finished.
func TestServerFlagReachesTheSignInForm(t *testing.T) {
	f, err := parseFlags([]string{"-data-dir", t.TempDir(), "-server", "http://127.0.0.1:9/"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.startInBackground()
	defer a.shutdown()
	st, err := a.services.Auth.State() // waits for the start
	if err != nil {
		t.Fatal(err)
	}
	if st.SignedIn || st.DefaultServer != "http://127.0.0.1:9" {
		t.Fatalf("state = signed in %v, default server %q; want the -server address", st.SignedIn, st.DefaultServer)
	}
}

// On a shared workstation quitting the app ends the session: the demo
// account's cache file, its cache key, token and device items leave this
// computer when the window closes (OnShutdown), and the next start signs
// in anew.
func TestQuittingASharedWorkstationForgetsTheCopy(t *testing.T) {
	ctx := context.Background()
	a := startDemo(t, t.TempDir(), func(a *app) {
		s := a.desk.Settings()
		s.SharedWorkstation = true
		if _, err := a.desk.SaveSettings(ctx, s); err != nil {
			t.Fatal(err)
		}
	})
	st := a.desk.State()
	if !st.SignedIn || st.Profile == nil {
		t.Fatalf("after start: %+v", st)
	}
	id := st.Profile.ID
	t.Cleanup(func() { keychain.OS().DeleteProfile(id) })
	w, err := a.desk.Workspace()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	file := cache.FilePath(a.dirs.cache, id)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("no cache file before quitting, so the check after it would pass vacuously: %v", err)
	}
	a.shutdown()
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cache file survived quitting a shared workstation: %v", err)
	}
	for _, item := range []string{"token", "device", "device-secret", "cache-key"} {
		if _, err := keyring.Get(keychain.Service, id+":"+item); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("keychain item %s survived quitting a shared workstation: %v", item, err)
		}
	}
}
