package demo_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/backend/demo"
)

func TestStartSimulateClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	p, err := demo.Start(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(p.URL() + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	for range 2 {
		if err := p.SimulateNewDeviceSignIn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("db file: %v %v", fi, err)
	}
	// A second start reuses the seeded database (no second seed).
	p2, err := demo.Start(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
}
