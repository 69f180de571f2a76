package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/sqlite"
)

// tinyDisk mounts a tmpfs of size bytes (a real file system that fills
// up) and unmounts it when the test ends. It needs root, as the test
// command runs.
func tinyDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs for the disk-full test (needs root, as in CI): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// TestDiskFull puts the database on a small real file system and fills
// it: sign-ins (writes) get 503 unavailable saying the disk is full, never
// 500; /healthz answers 503 with the same reason; reads go on; and once
// space is freed, /healthz and sign-ins recover by themselves.
func TestDiskFull(t *testing.T) {
	dir := tinyDisk(t, 4<<20)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "platform.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.CreateOrg(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, store.NewUser{OrgID: org.ID, Email: "admin@acme.test", Name: "Admin", Role: "security_admin", PasswordHash: platformtest.PasswordHash(t)}); err != nil {
		t.Fatal(err)
	}
	p := platformtest.Start(t, platformtest.Options{Store: db, Seed: "none"})
	c := newClient(t, p, "")
	login := map[string]any{"org": "acme", "email": "admin@acme.test", "password": platformtest.Password,
		"device": map[string]string{"name": strings.Repeat("a", 200)}}
	var lr api.LoginResponse
	c.do("POST", api.BasePath+"/auth/login", login).decode(t, 200, &lr)
	admin := newClient(t, p, lr.Token)

	fill(t, filepath.Join(dir, "filler"))
	// Small writes may still fit in pages SQLite already has; sign in until
	// the file must grow.
	var full response
	for i := 0; i < 2000; i++ {
		res := c.do("POST", api.BasePath+"/auth/login", login)
		if res.status == 200 {
			continue
		}
		full = res
		break
	}
	if full.status != 503 || full.errCode() != api.CodeUnavailable || !strings.Contains(string(full.body), "database disk is full") {
		t.Fatalf("sign-in on a full disk = %d %s, want 503 unavailable naming the full disk", full.status, full.body)
	}
	hz := c.do("GET", "/healthz", nil)
	if hz.status != 503 || hz.errCode() != api.CodeUnavailable || !strings.Contains(string(hz.body), "disk is full") {
		t.Fatalf("healthz on a full disk = %d %s", hz.status, hz.body)
	}
	// Reads do not need the disk to grow.
	admin.do("GET", api.BasePath+"/sessions?limit=10", nil).decode(t, 200, nil)
	// Still full: still reported.
	if hz := c.do("GET", "/healthz", nil); hz.status != 503 {
		t.Fatalf("healthz while still full = %d %s", hz.status, hz.body)
	}

	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	c.do("GET", "/healthz", nil).decode(t, 200, nil)
	c.do("POST", api.BasePath+"/auth/login", login).decode(t, 200, nil)
	if n := len(admin.allSessions("status=all", 1000)); n < 2 {
		t.Errorf("%d sessions after recovery", n)
	}
}
