package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	if code, _, _ := runCmd(t, "", "org", "create", "--db", db, "--slug", "initech", "--name", "Initech"); code != 0 {
		t.Fatal("org create failed")
	}
	code, out, _ := runCmd(t, "", "user", "add", "--db", db, "--org", "initech", "--email", "Bill@initech.test", "--name", "Bill", "--role", "security_admin")
	if code != 0 || !strings.Contains(out, "password (shown once): ") {
		t.Fatalf("user add: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "s3cret-password\n", "user", "passwd", "--db", db, "--org", "initech", "--email", "bill@initech.test", "--password-stdin"); code != 0 || strings.Contains(out, "s3cret") {
		t.Fatalf("user passwd: %d %s", code, out)
	}
	code, out, _ = runCmd(t, "", "user", "totp", "--db", db, "--org", "initech", "--email", "bill@initech.test")
	if code != 0 || !strings.Contains(out, "otpauth://totp/") {
		t.Fatalf("user totp: %d %s", code, out)
	}
	code, out, _ = runCmd(t, "", "user", "list", "--db", db, "--org", "initech")
	if code != 0 || !strings.Contains(out, "bill@initech.test") || !strings.Contains(out, "yes") {
		t.Fatalf("user list: %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "", "user", "add", "--db", db, "--org", "initech", "--email", "x@initech.test", "--name", "X", "--role", "god"); code != 2 {
		t.Errorf("bad role exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "", "seed", "--db", db, "--demo"); code != 1 {
		t.Errorf("demo seed of a non-empty db exit %d, want 1", code)
	}
	if code, _, _ := runCmd(t, "", "serve", "--db", db, "--listen", "127.0.0.1:0", "--seed", "demo"); code != 1 {
		t.Errorf("serve --seed demo of a non-empty db exit %d, want 1", code)
	}
	if code, out, _ := runCmd(t, "", "seed", "--db", db, "--large-org", "big", "--sessions", "300", "--devices", "40"); code != 0 || !strings.Contains(out, "300 sessions") {
		t.Errorf("large seed: %d %s", code, out)
	}
	for _, args := range [][]string{{"serve", "--help"}, {"seed", "--help"}, {"org", "create", "--help"}, {"user", "add", "--help"}, {"user", "list", "--help"}, {"help"}} {
		if code, _, _ := runCmd(t, "", args...); code != 0 {
			t.Errorf("%v exit %d", args, code)
		}
	}
	if code, _, _ := runCmd(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d", code)
	}
}

// TestVersion checks that "platformd version" prints the build's version,
// the one lib.sh passes with -ldflags -X main.version.
func TestVersion(t *testing.T) {
	old := version
	version = "1.2.3+test"
	t.Cleanup(func() { version = old })
	if code, out, _ := runCmd(t, "", "version"); code != 0 || out != "platformd 1.2.3+test\n" {
		t.Fatalf("version: %d %q", code, out)
	}
}
