// Package postgres implements store.Store on PostgreSQL (jackc/pgx/v5,
// pgxpool), for any number of platformd replicas serving one database.
//
// # The delta feed under concurrent writers
//
// The updated_since feed must never skip a change, also one committed late by
// a slower transaction on another connection or another replica. A naive
// timestamp does not give that: transaction A stamps t1, B stamps t2 > t1
// and commits first; a reader sees B, advances its cursor to t2, and A's row
// (t1 < t2) appears after the cursor has passed it.
//
// This store numbers changes in commit order with a commit-ordered change
// sequence: the one-row table write_clock. Every write transaction that
// stamps rows takes its updated_at with
//
//	UPDATE write_clock SET last = GREATEST(now, last + 1µs) RETURNING last
//
// before it stamps anything, and that row lock is held until the
// transaction ends. A second writer's UPDATE waits on the lock; under READ
// COMMITTED it then re-reads the row as committed by the first and takes a
// larger value. So stamps are handed out in the order the transactions
// commit, and whenever a transaction with stamp t is visible to a reader,
// every transaction with a smaller stamp has already committed (PostgreSQL
// marks a transaction committed in the proc array before it releases its
// locks), so any statement snapshot that sees t also sees everything below
// t. A reader whose cursor reached t can therefore never later find a change
// at or below t. The cost is that stamping writes are serialized store-wide,
// exactly like SQLite's single writer; they are short (one to three
// statements, terminate-all one UPDATE), and reads are never blocked.
// storetest's TestFeedNeverSkipsLateCommits drives many concurrent writers
// on separate connections against a feed reader to prove it.
//
// Writes that stamp nothing (TOTP steps, throttle marks, stream leases) do
// not take the clock. Every stamping transaction takes the clock as its first lock, so
// two of them can never wait for each other in opposite orders.
//
// # Migrations
//
// Embedded SQL files applied in name order, recorded in schema_version, in
// one transaction that first takes a transaction-level advisory lock: when
// several replicas start at once, one migrates and the others wait and then
// find nothing left to do.
//
// # Lost connections
//
// Errors that mean the database cannot be reached (refused, reset, backend
// terminated, shutting down) are reported as store.EUnavailable, which the
// HTTP layer answers with 503 unavailable. pgxpool drops broken connections
// and dials new ones, so the replica recovers by itself when the database is
// back.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessiondesk/backend/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serializes migrations of
// replicas starting together ("sessiondesk" in ASCII, truncated to 63 bits).
const migrationLock int64 = 0x73657373696f6e64

// defaultMaxConns is the pool size unless the URL says otherwise.
// pgxpool's own default, max(4, CPUs), is 4 on a 2-core host: four slow
// requests (a terminate-all, writers queued on the write clock, feed
// walks) would leave every other request of the replica waiting for a
// connection while the database has room. Connections are dialled only
// when needed.
const defaultMaxConns = 16

// Options configures a DB.
type Options struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// MaxConns caps the pool; 0 means the URL's pool_max_conns, else
	// defaultMaxConns.
	MaxConns int32
}

// DB is a store.Store backed by a PostgreSQL database.
type DB struct {
	pool  *pgxpool.Pool
	clock func() time.Time

	notifyOnce sync.Once
	notify     *notifier // see Notifier
}

var _ store.Store = (*DB)(nil)

// IsURL reports whether a --db value names a PostgreSQL database rather
// than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://…) and applies pending
// migrations.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may carry a password: never echo it.
		return nil, errors.New("postgres: invalid database URL")
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	// Find dead connections between requests rather than in one.
	cfg.HealthCheckPeriod = 5 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", classify(err))
	}
	d := &DB{pool: pool, clock: opts.Clock}
	if d.clock == nil {
		d.clock = time.Now
	}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (d *DB) Close() error {
	if d.notify != nil {
		d.notify.close()
	}
	d.pool.Close()
	return nil
}

// Pool is the connection pool, for tools (platformd copy) and tests.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

func (d *DB) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return err
		}
		names, err := fs.Glob(migrations, "migrations/*.sql")
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			num, _, _ := strings.Cut(base, "_")
			v, err := strconv.Atoi(num)
			if err != nil {
				return fmt.Errorf("migration %s: name must start with a number", name)
			}
			if v <= current {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", classify(err))
	}
	return nil
}

// classify turns an error that means "the database cannot be reached" into
// a store.EUnavailable domain error (keeping the cause in the chain for the
// log); other errors pass unchanged.
func classify(err error) error {
	if err == nil || store.ErrorCode(err) != "" {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.Errorf(store.EUnavailable, "the database is not available"), err)
	}
	return err
}

func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// Acquiring a connection timed out: the pool could not dial.
		return true
	}
	// pgx reports use of a connection it closed after a failure this way.
	return strings.Contains(err.Error(), "conn closed")
}

// wrap adds the operation to an error, classifying lost connections.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, classify(err))
}

// writeTx is one write transaction. now() hands out the transaction's
// updated_at from the write clock on first use (see the package comment).
type writeTx struct {
	pgx.Tx
	ctx   context.Context
	clock func() time.Time
	ts    int64
}

func (w *writeTx) now() (int64, error) {
	if w.ts != 0 {
		return w.ts, nil
	}
	err := w.QueryRow(w.ctx, `UPDATE write_clock SET last = GREATEST($1::bigint, last + 1000) WHERE id = 1 RETURNING last`,
		w.clock().UnixNano()).Scan(&w.ts)
	if err != nil {
		return 0, fmt.Errorf("advance write clock: %w", err)
	}
	return w.ts, nil
}

// write runs fn in one READ COMMITTED transaction and commits when fn
// succeeds.
func (d *DB) write(ctx context.Context, fn func(w *writeTx) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(&writeTx{Tx: tx, ctx: ctx, clock: d.clock})
	})
}

// querier is what reads need; the pool and a transaction both have it.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// nanos is t as unix nanoseconds, clamped (see store.UnixNano).
func nanos(t time.Time) int64 { return store.UnixNano(t) }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := fromNanos(*n)
	return &t
}

func nullNanos(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// args builds a statement's positional parameters.
type args []any

// add appends v and returns its placeholder ($n).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

var _ store.WriteChecker = (*DB)(nil)

// CheckWritable makes a real but harmless write: a transaction that is
// given a transaction ID (which a read-only server, such as a standby,
// refuses) and commits. /healthz calls it after an EUnavailable error, so a
// replica reports healthy again by itself once the database is back.
func (d *DB) CheckWritable(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`)
		return err
	})
	return wrap("check writable", err)
}
