package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Oldest returns the time of the oldest thing the cache holds: the start of
// its oldest session, the first sight of its oldest device, or its oldest
// audit event; the zero time for an empty cache. (A scan, fine for the
// Settings view that asks.)
func (s *Store) Oldest(ctx context.Context) (time.Time, error) {
	var ns sql.NullInt64
	err := s.conn().QueryRowContext(ctx, `SELECT MIN(x) FROM (
		SELECT MIN(created_at) AS x FROM sessions
		UNION ALL SELECT MIN(first_seen_at) FROM devices
		UNION ALL SELECT MIN(at) FROM audit)`).Scan(&ns)
	if err != nil {
		return time.Time{}, fmt.Errorf("cache: oldest: %w", err)
	}
	if !ns.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, ns.Int64).UTC(), nil
}

// Files lists the profile's files in dir: the database, its journals and
// any copies moved aside as damaged. Remove deletes exactly these.
func Files(dir, profile string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasPrefix(e.Name(), profile+".db") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// Size is the bytes the profile's files take in dir.
func Size(dir, profile string) (int64, error) {
	files, err := Files(dir, profile)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n, nil
}
