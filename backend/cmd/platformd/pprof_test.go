package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"sessiondesk/backend/server"
	"sessiondesk/backend/store/sqlite"
)

func TestPprofIsLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:0": true,
		"0.0.0.0:6060": false, ":6060": false, "192.0.2.1:6060": false, "6060": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
	db := filepath.Join(t.TempDir(), "p.db")
	if code, _, _ := runCmd(t, "", "serve", "--db", db, "--listen", "127.0.0.1:0", "--pprof", "0.0.0.0:6060"); code != 2 {
		t.Errorf("serve --pprof 0.0.0.0:6060 exit %d, want 2", code)
	}
}

func TestPprofServesProfilesOnItsOwnListenerOnly(t *testing.T) {
	addr, stop, err := servePprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("pprof listener: %d", res.StatusCode)
	}
	// The API handler knows nothing of /debug/pprof.
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := server.New(server.Config{Store: db, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/cmdline", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("API handler answered /debug/pprof/cmdline with %d", rec.Code)
	}
}
