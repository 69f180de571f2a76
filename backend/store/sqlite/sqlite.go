// Package sqlite implements store.Store on a SQLite file (mattn/go-sqlite3).
//
// The database runs in WAL mode so readers never wait for the writer, with
// foreign keys on and a busy timeout so concurrent writers queue instead of
// failing. Every transaction begins IMMEDIATE (the DSN sets _txlock), so a
// write transaction holds the single write lock from its first statement: the
// updated_at it takes from the store-wide write clock (the write_clock row,
// max(now, last+1µs)) is then strictly ordered like the commits, which is what
// makes the updated_since feed exact. Reads are single statements outside any
// transaction.
//
// Migrations are embedded SQL files applied in name order and recorded in
// schema_version. Times are stored as INTEGER unix nanoseconds.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"sessiondesk/backend/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures a DB.
type Options struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// DB is a store.Store backed by one SQLite file.
type DB struct {
	path  string
	db    *sql.DB // reads
	wdb   *sql.DB // writes: one connection
	cdb   *sql.DB // WAL checkpoints: one connection
	clock func() time.Time

	ckpt     chan struct{} // a write committed; checkpoint soon
	stop     chan struct{}
	ckptDone chan struct{}
}

var _ store.Store = (*DB)(nil)

// writerDriver opens the write connection. It turns SQLite's automatic
// checkpoint off there: that checkpoint runs inside the COMMIT of whichever
// write pushes the WAL past 1000 pages, so the request that made a big change
// (terminate-all of 100,000 sessions writes ~13,000 pages) also waited for
// all of them to be copied back into the database file and synced — a sixth
// of terminate-all's time in its profile. DB.checkpointer does that work
// after the commit instead, off every request's path.
const writerDriver = "sqlite3_platformd_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA wal_autocheckpoint = 0`, nil)
		return err
	}})
	sql.Register(readerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA mmap_size = `+strconv.Itoa(readerMmapSize), nil)
		return err
	}})
}

// readerDriver opens the read connections with the database file mapped
// into memory (mmap_size). At a million sessions the file is about 900 MB,
// far over a reader's page cache, and a page of 1000 sessions in creation
// order visits rows spread over the whole file: each missed page was a
// read() into that cache. Mapped, a walk of every session took 23 s instead
// of 40 s and the first page 1.2 ms instead of 2.4 ms (docs/bench.md). The
// mapping shares the kernel's page cache, so it costs no memory of its own;
// the writer keeps its private cache (mapped, its terminate-all was slower).
const readerDriver = "sqlite3_platformd_reader"

// readerMmapSize is the most of the file a reader maps; SQLite caps it at
// its compile-time limit (2 GB in mattn/go-sqlite3) and reads the rest.
const readerMmapSize = 4 << 30

// checkpointDelay batches the checkpoints of bursts of small writes: at
// most about one per checkpointDelay.
const checkpointDelay = 250 * time.Millisecond

// Open opens (creating with mode 0600 when missing) the SQLite file at path
// and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	// Create the file ourselves so its mode is 0600 from the first byte;
	// SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()

	// Three pools: one connection for writes (SQLite has one writer anyway;
	// queuing in Go is cheaper than spinning on the busy timeout) with a big
	// page cache so bulk writes such as terminate-all over 100k sessions stay
	// in memory, a few connections for reads, which WAL lets run beside the
	// writer, and one for checkpoints. database/sql never shares a
	// connection between goroutines, so SQLite's per-connection mutexes are
	// off (_mutex=no; they were 6% of a page walk's time in SQLite). Each
	// connection keeps its prepared statements (_stmt_cache_size; the driver
	// resets a statement before caching it, so no read stays open):
	// preparing the list and token queries anew was 8% of a page request.
	base := "file:" + path + "?_txlock=immediate&_foreign_keys=on&_busy_timeout=10000" +
		"&_journal_mode=WAL&_synchronous=NORMAL&_mutex=no&_stmt_cache_size=64"
	d := &DB{path: path, ckpt: make(chan struct{}, 1), stop: make(chan struct{}), ckptDone: make(chan struct{})}
	if d.wdb, err = sql.Open(writerDriver, base+"&_cache_size=-262144"); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d.wdb.SetMaxOpenConns(1)
	d.wdb.SetMaxIdleConns(1)
	d.wdb.SetConnMaxIdleTime(0)
	if d.db, err = sql.Open(readerDriver, base+"&_cache_size=-65536"); err != nil {
		d.wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d.db.SetMaxOpenConns(4)
	d.db.SetMaxIdleConns(4)
	if d.cdb, err = sql.Open("sqlite3", base); err != nil {
		d.wdb.Close()
		d.db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d.cdb.SetMaxOpenConns(1)
	d.cdb.SetMaxIdleConns(1)
	d.clock = opts.Clock
	if d.clock == nil {
		d.clock = time.Now
	}
	go d.checkpointer()
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkpointer copies committed WAL frames back into the database file
// (PASSIVE: it never blocks readers or the writer) shortly after writes.
// When the last connection closes, SQLite checkpoints what is left.
func (d *DB) checkpointer() {
	defer close(d.ckptDone)
	for {
		select {
		case <-d.stop:
			return
		case <-d.ckpt:
		}
		select {
		case <-d.stop:
			return
		case <-time.After(checkpointDelay):
		}
		// A failed checkpoint is retried after the next write; the WAL
		// keeps everything meanwhile.
		_, _ = d.cdb.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// Close closes the database.
func (d *DB) Close() error {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.ckptDone
	cerr := d.cdb.Close()
	rerr := d.db.Close()
	if err := d.wdb.Close(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("sqlite: close: %w", rerr)
	}
	if cerr != nil {
		return fmt.Errorf("sqlite: close: %w", cerr)
	}
	return nil
}

func (d *DB) migrate(ctx context.Context) error {
	tx, err := d.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a number", name)
		}
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	d.checkpointSoon()
	return nil
}

// writeTx is one write transaction. now() hands out the transaction's
// updated_at from the write clock on first use, so transactions that end up
// writing nothing do not advance it.
type writeTx struct {
	*sql.Tx
	ctx   context.Context
	clock func() time.Time
	ts    int64
}

// count runs a statement of the transaction and returns the rows it
// changed.
func (w *writeTx) count(query string, args ...any) (int64, error) {
	res, err := w.ExecContext(w.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (w *writeTx) now() (int64, error) {
	if w.ts != 0 {
		return w.ts, nil
	}
	var last int64
	if err := w.QueryRowContext(w.ctx, `SELECT last FROM write_clock WHERE id = 1`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read write clock: %w", err)
	}
	ts := w.clock().UnixNano()
	if min := last + int64(time.Microsecond); ts < min {
		ts = min
	}
	if _, err := w.ExecContext(w.ctx, `UPDATE write_clock SET last = ? WHERE id = 1`, ts); err != nil {
		return 0, fmt.Errorf("advance write clock: %w", err)
	}
	w.ts = ts
	return ts, nil
}

// write runs fn in one IMMEDIATE transaction and commits when fn succeeds.
// A failure of the disk under the file becomes store.EUnavailable (diskError).
func (d *DB) write(ctx context.Context, fn func(w *writeTx) error) error {
	tx, err := d.wdb.BeginTx(ctx, nil)
	if err != nil {
		return diskError(fmt.Errorf("begin: %w", err))
	}
	w := &writeTx{Tx: tx, ctx: ctx, clock: d.clock}
	if err := fn(w); err != nil {
		tx.Rollback()
		return diskError(err)
	}
	if err := tx.Commit(); err != nil {
		return diskError(fmt.Errorf("commit: %w", err))
	}
	d.checkpointSoon()
	return nil
}

// diskError turns SQLite's "disk full", "I/O error" and "read-only" into a
// store.EUnavailable error whose message an operator can act on, keeping
// the SQLite error in the chain for the log. SQLite rolls the transaction
// back in each case, so nothing half-done remains, and the next write after
// the cause is fixed simply succeeds.
func diskError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	var msg string
	switch se.Code {
	case sqlite3.ErrFull:
		msg = msgDiskFull
	case sqlite3.ErrIoErr:
		msg = msgIOError
	case sqlite3.ErrReadonly:
		msg = "the platform's database file has become read-only: check its permissions and the file system it is on"
	default:
		return err
	}
	return fmt.Errorf("%w: %w", store.Errorf(store.EUnavailable, "%s", msg), err)
}

const (
	msgDiskFull = "the platform's database disk is full: free space on the disk that holds the database file; writes work again as soon as there is room"
	msgIOError  = "the platform's database file cannot be written (disk I/O error): check the disk that holds it"
)

// headroomBytes is the free space CheckWritable asks for beside the file.
// A one-row write alone is no proof: SQLite reuses the space of its WAL
// file once a checkpoint has copied it back, so a tiny write can succeed on
// a full disk while every sign-in still fails. 1 MiB is what a few hundred
// sign-ins or terminations take.
const headroomBytes = 1 << 20

// CheckWritable reports whether writes work again: headroomBytes can be
// written (and synced) beside the database file, and a real transaction
// commits. The transaction advances the write clock by a microsecond, which
// only makes the next updated_at a little later (the feed needs updated_at
// increasing, not dense).
func (d *DB) CheckWritable(ctx context.Context) error {
	if err := d.checkHeadroom(); err != nil {
		return err
	}
	return d.write(ctx, func(w *writeTx) error {
		_, err := w.now()
		return err
	})
}

func (d *DB) checkHeadroom() error {
	fail := func(err error) error {
		msg := msgIOError
		if errors.Is(err, syscall.ENOSPC) {
			msg = msgDiskFull
		}
		return fmt.Errorf("%w: %w", store.Errorf(store.EUnavailable, "%s", msg), err)
	}
	f, err := os.CreateTemp(filepath.Dir(d.path), ".platformd-space-check-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 64<<10)
	for n := 0; n < headroomBytes; n += len(buf) {
		if _, err := f.Write(buf); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	return nil
}

// checkpointSoon asks the checkpointer to run after a commit.
func (d *DB) checkpointSoon() {
	select {
	case d.ckpt <- struct{}{}:
	default: // one is already pending
	}
}

// querier is what reads need; both *sql.DB and *sql.Tx have it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// nanos is t as unix nanoseconds, clamped (see store.UnixNano).
func nanos(t time.Time) int64 { return store.UnixNano(t) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

func nullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
