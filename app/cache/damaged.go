package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// damagedStamp is the time format in the name of a file moved aside.
const damagedStamp = "20060102T150405Z"

// removeDamaged deletes the profile's files that were moved aside as
// damaged (<profile>.db.damaged-<time>[-wal|-shm|-journal]) and were moved
// before cutoff; a zero cutoff deletes them all. They hold sealed personal
// data like the live file, so they may not outlive its retention, nor a
// purge.
func removeDamaged(dir, profile string, cutoff time.Time) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prefix := profile + ".db.damaged-"
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || e.IsDir() {
			continue
		}
		if !cutoff.IsZero() && !damagedBefore(filepath.Join(dir, name), name[len(prefix):], cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// damagedBefore tells whether the file was moved aside before cutoff: by the
// time in its name, or by its modification time when the name has none.
func damagedBefore(path, rest string, cutoff time.Time) bool {
	if len(rest) >= len(damagedStamp) {
		if t, err := time.Parse(damagedStamp, rest[:len(damagedStamp)]); err == nil {
			return t.Before(cutoff)
		}
	}
	fi, err := os.Stat(path)
	return err == nil && fi.ModTime().Before(cutoff)
}
