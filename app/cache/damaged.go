package cache

import (
	"database/sql"
	"errors"
	"io/fs"
	"net/url"
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

// Peek tells whether profile has a cache file in dir and how many sessions
// it holds (-1 when the file cannot be read), without its key: ids and
// status are clear columns. It is for telling the user what is lost when
// the key is gone.
func Peek(dir, profile string) (sessions int, found bool) {
	path := FilePath(dir, profile)
	if _, err := os.Stat(path); err != nil {
		return 0, false
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return -1, true
	}
	defer db.Close()
	if err := db.QueryRow("SELECT COUNT(*) FROM sessions").Scan(&sessions); err != nil {
		return -1, true
	}
	return sessions, true
}
