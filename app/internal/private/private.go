// Package private writes the app's own files (profiles, settings) so that
// only the user can read them (mode 0600) and a crash never leaves one half
// written: the data goes to a temporary file beside the target, which then
// replaces it in one rename.
package private

import (
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, mode 0600, atomically. pattern names
// the temporary file (os.CreateTemp), e.g. ".settings-*.json".
func WriteFile(path, pattern string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
