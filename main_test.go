package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

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
	f, err := parseFlags([]string{"-data-dir", dir, "-demo-new-device-every", "0"})
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		a, err := newApp(f, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		a.startInBackground()
		select {
		case <-a.ready:
		case <-time.After(2 * time.Minute):
			t.Fatal("start did not finish")
		}
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
