package private_test

import (
	"os"
	"path/filepath"
	"testing"

	"sessiondesk/app/internal/private"
)

// A file is written readable by its owner only, replaces the one before
// whole, and leaves no temporary file behind.
func TestWriteFileIsPrivateAndReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(path, []byte("old and longer than the new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := private.WriteFile(path, ".settings-*.json", []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("read %q, %v", got, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".settings-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
