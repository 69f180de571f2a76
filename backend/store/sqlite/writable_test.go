package sqlite_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sessiondesk/backend/store/sqlite"
)

// TestOpenNamesWhatIsNotWritable opens databases where they cannot be
// written and checks that the error names the path and the cause, not
// SQLite's "attempt to write a readonly database". Permission bits do not
// stop root (the test command's user); a read-only mount does. The
// non-root cases run the real binary as another user in
// backend/cmd/platformd.
func TestOpenNamesWhatIsNotWritable(t *testing.T) {
	ctx := context.Background()
	ro := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
		t.Fatalf("mount a read-only tmpfs (needs root, as in CI): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })

	for _, c := range []struct {
		name, path string
		want       []string
	}{
		{"read-only mount", filepath.Join(ro, "platform.db"),
			[]string{"cannot write " + filepath.Join(ro, "platform.db"), "directory " + ro + " is not writable by uid 0", "read-only file system"}},
		{"missing directory", filepath.Join(t.TempDir(), "nope", "platform.db"),
			[]string{"cannot write ", "/nope/platform.db", "/nope does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, c.path, sqlite.Options{})
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
