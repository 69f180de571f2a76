// Package cache is the app's offline copy of what the platform last reported
// for one profile: sessions, devices, the recent audit log, the delta-sync
// watermarks and the set of devices the user was already told about.
//
// Storage. One SQLite file per profile (go-sqlite3) in the user's cache
// directory, mode 0600 in a 0700 directory, WAL journal, secure_delete on, its
// schema in embedded versioned migrations. With no directory (no keychain to
// hold the key) the database lives in memory and nothing reaches the disk.
//
// Encryption at rest. Every personal field (e-mails, names, IPs, locations,
// user agents, device names, reasons) is inside an AES-256-GCM sealed blob
// under a 32-byte key the caller keeps in the OS keychain. Only ids,
// timestamps, status and flags stay in clear columns. A key check row detects
// a key that does not match the file.
//
// Consistency. Apply writes one sync in one transaction, so a sync that dies
// half way (network, crash, kill) leaves the previous snapshot whole.
//
// Damage. A file that SQLite cannot read or that does not open under the key
// is moved aside (renamed *.damaged-<time>) and a new one is built; Open
// returns a notice for the user instead of failing. The full structural
// check reads every page, too slow to stand before the first screen at
// 100,000 sessions: Verify runs it afterwards (the syncer does, once the rows
// are loaded) and Rebuild moves a damaged file aside while the app runs.
// Files moved aside are deleted by Remove (a purge) and, once older than the
// retention limit, by Open.
//
// Retention. Ended sessions and audit events older than the retention limit
// (default 14 days) are dropped at every sync, measured on the platform's
// clock (Snapshot.ServerNow). Opening never empties a cache, however old its
// last sync looks to the workstation's clock: that clock may have jumped,
// and offline the cache is the only copy there is.
package cache

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DefaultRetention is how long ended sessions and audit events are kept.
const DefaultRetention = 14 * 24 * time.Hour

// Options configure Open.
type Options struct {
	// Dir holds <Profile>.db. Empty keeps the database in memory only.
	Dir       string
	Profile   string
	Key       []byte // 32 bytes; nil only with an empty Dir (a random key is used)
	Retention time.Duration
	Clock     func() time.Time
	Log       *slog.Logger
}

// Store is one profile's open cache. It is safe for concurrent use.
type Store struct {
	db        atomic.Pointer[sql.DB] // swapped by Rebuild
	rebuildMu sync.Mutex             // guards closed and the swap in Rebuild
	closed    bool
	opts      Options
	seal      *sealer
	path      string
	retention time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// State is the bookkeeping of the last sync.
type State struct {
	SnapshotAt   time.Time // when the last complete sync was written; zero if never
	SessionsMark time.Time // highest updated_at seen in the sessions feed
	DevicesMark  time.Time // highest updated_at seen in the devices feed
	EventID      string    // the live stream's resume token ("" none)
}

// FilePath is where profile's cache file lives in dir (its journals and
// copies moved aside take this name plus a suffix).
func FilePath(dir, profile string) string { return filepath.Join(dir, profile+".db") }

// Path returns the file's location, or "" for an in-memory cache.
func (s *Store) Path() string { return s.path }

// Open opens (creating or repairing as needed) the profile's cache. lost is
// not nil when cached data was lost (a damaged file was replaced), which
// the user is told.
func Open(ctx context.Context, o Options) (st *Store, lost *Loss, err error) {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	key := o.Key
	if key == nil {
		if o.Dir != "" {
			return nil, nil, errors.New("cache: a key is required for an on-disk cache")
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, nil, fmt.Errorf("cache: %w", err)
		}
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, nil, err
	}
	if o.Dir == "" {
		st, err := open(ctx, "", sl, o)
		return st, nil, err
	}
	if o.Profile == "" || strings.ContainsAny(o.Profile, `/\.`) {
		return nil, nil, fmt.Errorf("cache: bad profile id %q", o.Profile)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("cache: %w", err)
	}
	// Damaged copies moved aside are kept for a look, not for ever.
	if err := removeDamaged(o.Dir, o.Profile, o.Clock().Add(-o.Retention)); err != nil {
		o.Log.Warn("old damaged cache files not deleted", "err", err)
	}
	path := FilePath(o.Dir, o.Profile)
	st, err = open(ctx, path, sl, o)
	if err == nil {
		return st, nil, nil
	}
	var d *damagedError
	if ctx.Err() != nil || !errors.As(err, &d) {
		return nil, nil, err
	}
	o.Log.Warn("offline cache unreadable; moving it aside", "path", path, "err", err)
	aside, merr := moveAside(path, o.Clock())
	if merr != nil {
		return nil, nil, fmt.Errorf("cache: damaged (%v) and cannot be moved aside: %w", err, merr)
	}
	st, err = open(ctx, path, sl, o)
	if err != nil {
		return nil, nil, err
	}
	return st, &Loss{Aside: filepath.Base(aside)}, nil
}

func open(ctx context.Context, path string, sl *sealer, o Options) (*Store, error) {
	var dsn string
	if path == "" {
		dsn = "file::memory:?_foreign_keys=on&_secure_delete=on"
	} else {
		// SQLite creates the -wal and -shm files with the main file's mode,
		// so creating it 0600 first covers all three.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		f.Close()
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		// synchronous=NORMAL in WAL mode: a commit survives the app being
		// killed (what the cache needs); only a power cut may lose the last
		// syncs, which the next sync fetches again. No fsync per sync.
		// cache_size 16 MB (default 2 MB): a full sync of 100,000 sessions
		// re-read B-tree pages evicted from the small cache.
		// mode=rw: a connection never creates the file. The pool opens
		// its connections when first needed; one opened after the file was
		// deleted behind the app's back created it again (SQLite's 0644,
		// a header page), so that the next start could not tell the user
		// it was gone (desk's checkCacheGone) — 1 run in ~40 of a desk test.
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?mode=rw&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=on&_secure_delete=on&_busy_timeout=5000&_cache_size=-16384"
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// An in-memory database exists only inside its connection: one. A file
	// gets two, so that the list's first window (SessionWindow) is answered
	// while the rows are being read into the index on the other; WAL lets a
	// reader run beside the other connection. Writes are one sync at a time.
	conns := 1
	if path != "" {
		conns = fileConns
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	st := &Store{opts: o, seal: sl, path: path, retention: o.Retention, now: o.Clock, log: o.Log}
	st.db.Store(db)
	if err := st.check(ctx); err != nil {
		db.Close()
		return nil, &damagedError{err}
	}
	return st, nil
}

// fileConns is how many connections a file's store keeps open (see Open).
const fileConns = 2

// conn is the open database (Rebuild replaces it).
func (s *Store) conn() *sql.DB { return s.db.Load() }

// check proves the file is a database under this key and migrates it. It
// reads only the pages it needs:
// the full structural check (Verify) reads every page, about 0.1–0.5 s for
// 100,000 sessions, so it runs after the first screen, not before.
func (s *Store) check(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.checkKey(ctx)
}

// Verify runs SQLite's structural check over the whole file. An error for
// which IsDamaged is true means the file should be rebuilt (Rebuild).
func (s *Store) Verify(ctx context.Context) error {
	var res string
	if err := s.scanMapped(ctx, func(c *sql.Conn) error {
		if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
			return fmt.Errorf("cache: quick check: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if res != "ok" {
		return &damagedError{fmt.Errorf("cache: quick check: %s", res)}
	}
	return nil
}

// Rebuild moves a damaged file aside and continues on a new, empty one
// (the next sync is then a full one). Calls running meanwhile on the old
// file fail; none crash. lost is what the user is told.
func (s *Store) Rebuild(ctx context.Context) (lost *Loss, err error) {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	if s.closed {
		return nil, errors.New("cache: closed")
	}
	old := s.conn()
	old.Close()
	if s.path == "" {
		ns, err := open(ctx, "", s.seal, s.opts)
		if err != nil {
			return nil, err
		}
		s.db.Store(ns.conn())
		return &Loss{}, nil
	}
	aside, err := moveAside(s.path, s.now())
	if err != nil {
		return nil, fmt.Errorf("cache: damaged and cannot be moved aside: %w", err)
	}
	ns, err := open(ctx, s.path, s.seal, s.opts)
	if err != nil {
		return nil, err
	}
	s.db.Store(ns.conn())
	s.log.Warn("offline cache damaged; moved aside and rebuilt", "aside", aside)
	return &Loss{Aside: filepath.Base(aside)}, nil
}

// Loss is cached data lost when the cache was opened or rebuilt: every
// session, device and audit event it held (the next sync fetches them
// again). The app words it for the user (desk/errors.go).
type Loss struct {
	// Aside is the name the damaged file was kept under, beside the new
	// one; "" for a cache in memory, which was rebuilt empty.
	Aside string
}

const keyCheckValue = "sessiondesk cache key check v1"

func (s *Store) checkKey(ctx context.Context) error {
	var sealed string
	err := s.conn().QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key_check'").Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		b, err := s.seal.seal("meta", "key_check", keyCheckValue)
		if err != nil {
			return err
		}
		_, err = s.conn().ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('key_check', ?)", string(b))
		return err
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	var v string
	if err := s.seal.open("meta", "key_check", []byte(sealed), &v); err != nil || v != keyCheckValue {
		return errSealBroken
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.conn().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("cache: migrate: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("cache: migration %s: bad version", base)
		}
		var n int
		if err := s.conn().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", v).Scan(&n); err != nil {
			return fmt.Errorf("cache: migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cache: migrate: %w", err)
		}
		tx, err := s.conn().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("cache: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("cache: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", v, s.now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("cache: migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("cache: migration %s: %w", base, err)
		}
	}
	return nil
}

// moveAside renames the database and its companions out of the way.
func moveAside(path string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.damaged-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return aside, nil
}

// damagedError marks a failure of the health checks, as opposed to one of
// creating the file (permissions, disk), which moving it would not cure.
type damagedError struct{ err error }

func (e *damagedError) Error() string { return e.err.Error() }
func (e *damagedError) Unwrap() error { return e.err }

// IsDamaged reports whether err means the file is not a usable cache.
func IsDamaged(err error) bool {
	var d *damagedError
	if errors.As(err, &d) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB
	}
	return errors.Is(err, errSealBroken)
}

// Close closes the database.
func (s *Store) Close() error { return s.conn().Close() }

// ReleaseMemory empties the page cache of each of the file's connections
// (PRAGMA shrink_memory). A full sync or a load fills both to cache_size
// (16 MB each) with pages the app will not read again soon: at a million
// sessions, emptied and then trimmed (syncer.ReleaseMemory), the
// process's C heap went from ~86 to ~56 MiB. It waits for a connection
// in use, so call it off the UI's path (after a Config.Released). An
// in-memory store keeps its pages: they are its data.
func (s *Store) ReleaseMemory(ctx context.Context) error {
	if s.path == "" {
		return nil
	}
	db := s.conn()
	// Holding a connection makes the pool hand out another.
	conns := make([]*sql.Conn, 0, fileConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range fileConns {
		c, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("cache: release memory: %w", err)
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
			return fmt.Errorf("cache: release memory: %w", err)
		}
	}
	return nil
}

// Remove deletes the profile's cache files in dir (sign-out with purge). The
// store must be closed first. The app calls it only through desk's
// removeCache, which first clears the profile's "cache written" mark: files
// missing while that mark is set are reported as removed outside the app.
func Remove(dir, profile string) error {
	path := FilePath(dir, profile)
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// Copies moved aside as damaged go too.
	errs = append(errs, removeDamaged(dir, profile, time.Time{}))
	return errors.Join(errs...)
}

// State returns the bookkeeping of the last sync.
func (s *Store) State(ctx context.Context) (State, error) {
	var st State
	rows, err := s.conn().QueryContext(ctx, "SELECT key, value FROM meta WHERE key IN ('snapshot_at', 'sessions_mark', 'devices_mark', 'event_id')")
	if err != nil {
		return st, fmt.Errorf("cache: state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return st, fmt.Errorf("cache: state: %w", err)
		}
		if k == "event_id" {
			st.EventID = v
			continue
		}
		t, _ := time.Parse(time.RFC3339Nano, v)
		switch k {
		case "snapshot_at":
			st.SnapshotAt = t
		case "sessions_mark":
			st.SessionsMark = t
		case "devices_mark":
			st.DevicesMark = t
		}
	}
	return st, rows.Err()
}

// IsClosed reports whether err comes from a store closed meanwhile (a
// workspace shut while a background read was running).
func IsClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "sql: database is closed")
}
