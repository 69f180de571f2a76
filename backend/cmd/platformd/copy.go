package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/sqlite"
)

// copyTable is one table platformd copy moves, with its columns in the same
// order and meaning in both schemas. kinds has one letter per column: t
// text, i integer, b bytes, B boolean (SQLite keeps it as 0/1), a a list of
// text (a JSON array in SQLite, text[] in PostgreSQL); any may be NULL
// where the schema allows it.
type copyTable struct {
	name  string
	cols  []string
	kinds string
}

// copyTables in foreign-key order. Throttle marks are not copied: they are
// transient and forgetting them only gives guessers a fresh window once.
var copyTables = []copyTable{
	{"orgs", []string{"id", "slug", "name", "created_at"}, "ttti"},
	{"users", []string{"id", "org_id", "email", "name", "role", "password_hash", "totp_secret", "totp_last_step", "created_at"}, "tttttbtii"},
	{"devices", []string{"id", "org_id", "user_id", "name", "platform", "trusted_at", "first_seen_at", "last_seen_at", "last_ip",
		"updated_at", "trust_secret_hash"}, "tttttiiitib"},
	{"sessions", []string{"id", "org_id", "user_id", "device_id", "token_hash", "ip", "user_agent", "client", "location", "mfa",
		"created_at", "last_active_at", "expires_at", "absolute_expires_at", "updated_at", "terminated_at", "terminated_by"}, "ttttbttttBiiiiiit"},
	{"audit_events", []string{"id", "org_id", "at", "actor_id", "action", "target_id", "count", "reason",
		"target_user_id", "target_label", "target_ids"}, "ttittiittta"},
}

func cmdCopy(ctx context.Context, args []string, c *cli) error {
	stdout, stderr, log := c.stdout, c.stderr, c.log
	fs := c.flags()
	from := fs.String("from", "", "the SQLite database `file` to copy (stop the platformd serving it first)")
	to := fs.String("to", "", "the `URL` of an empty PostgreSQL database (postgres://user@host:port/db); when left out, $"+envDB+
		" (keeps a password off the command line, which every local user can read)")
	if err := c.parse(args, "from", "to"); err != nil {
		return err
	}
	if !postgres.IsURL(*to) {
		// Never the value: it may hold a password.
		if c.fromEnv["to"] {
			fmt.Fprintf(stderr, "--to was left out and $%s is not a postgres:// URL; give the target with --to or in $%s\n", envDB, envDB)
			return errUsage
		}
		return usageError(stderr, "--to must be a postgres:// URL")
	}
	start := time.Now()
	counts, err := copyPlatform(ctx, *from, *to)
	if err != nil {
		return err
	}
	log.Info("copied", "from", *from, "to", redactDB(*to), "took", time.Since(start).Round(time.Millisecond).String())
	var parts []string
	for _, t := range copyTables {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t.name], strings.ReplaceAll(t.name, "_", " ")))
	}
	fmt.Fprintf(stdout, "copied %s; the counts match\n", strings.Join(parts, ", "))
	return nil
}

// copyPlatform copies every row of the SQLite platform at from into the
// empty PostgreSQL database at to, in one PostgreSQL transaction, and
// compares the counts of both. Rows keep their IDs, timestamps (updated_at
// too, so delta-sync cursors stay valid), token hashes (nobody is signed
// out), device secrets and TOTP state. The write clock moves past the
// newest copied change, so new changes sort after every copied one.
func copyPlatform(ctx context.Context, from, to string) (map[string]int64, error) {
	if _, err := os.Stat(from); err != nil {
		// sqlite.Open would create a missing file.
		return nil, fmt.Errorf("copy: %w", err)
	}
	// Opening migrates the file to the current schema, as serving it would.
	src, err := sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	src.Close()
	raw, err := sql.Open("sqlite3", "file:"+from+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, fmt.Errorf("copy: open %s: %w", from, err)
	}
	defer raw.Close()
	// One read transaction: a consistent snapshot of the file.
	rtx, err := raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("copy: read %s: %w", from, err)
	}
	defer rtx.Rollback()

	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	defer dst.Close()
	pool := dst.Pool()
	if err := checkEmpty(ctx, pool); err != nil {
		return nil, err
	}
	want, err := copyRows(ctx, rtx, pool)
	if err != nil {
		return nil, fmt.Errorf("copy: %w (nothing was written)", err)
	}
	// Statistics and a visibility map at once (see postgres.BulkLoad).
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return nil, fmt.Errorf("copy: vacuum: %w", err)
	}
	if err := checkCounts(ctx, rtx, pool, want); err != nil {
		return nil, err
	}
	return want, nil
}

// checkEmpty refuses a target that holds any row.
func checkEmpty(ctx context.Context, pool *pgxpool.Pool) error {
	for _, t := range copyTables {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.name).Scan(&n); err != nil {
			return fmt.Errorf("copy: count %s in the target: %w", t.name, err)
		}
		if n > 0 {
			return fmt.Errorf("copy: the target database is not empty (%s has %d rows); copy only into an empty one", t.name, n)
		}
	}
	return nil
}

// copyRows copies every table of the snapshot, and the write clock, in one
// PostgreSQL transaction; it returns the rows written per table.
func copyRows(ctx context.Context, rtx *sql.Tx, pool *pgxpool.Pool) (map[string]int64, error) {
	want := map[string]int64{}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, t := range copyTables {
			rows, err := rtx.QueryContext(ctx, `SELECT `+strings.Join(t.cols, ", ")+` FROM `+t.name)
			if err != nil {
				return fmt.Errorf("read %s: %w", t.name, err)
			}
			src := &sqliteRows{rows: rows, kinds: t.kinds}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, src)
			rows.Close()
			if err != nil {
				return fmt.Errorf("write %s: %w", t.name, err)
			}
			want[t.name] = n
		}
		var last int64
		if err := rtx.QueryRowContext(ctx, `SELECT last FROM write_clock WHERE id = 1`).Scan(&last); err != nil {
			return fmt.Errorf("read the write clock: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE write_clock SET last = GREATEST(last, $1) WHERE id = 1`, last)
		return err
	})
	return want, err
}

// checkCounts checks that every table has as many rows in both databases
// as were copied.
func checkCounts(ctx context.Context, rtx *sql.Tx, pool *pgxpool.Pool, want map[string]int64) error {
	for _, t := range copyTables {
		var s, d int64
		if err := rtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name).Scan(&s); err != nil {
			return fmt.Errorf("copy: count %s: %w", t.name, err)
		}
		if err := pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.name).Scan(&d); err != nil {
			return fmt.Errorf("copy: count %s: %w", t.name, err)
		}
		if s != d || d != want[t.name] {
			return fmt.Errorf("copy: %s has %d rows in the file but %d in PostgreSQL", t.name, s, d)
		}
	}
	return nil
}

// sqliteRows feeds rows of a SQLite query to COPY, converting each value to
// the PostgreSQL column's type.
type sqliteRows struct {
	rows  *sql.Rows
	kinds string
}

func (r *sqliteRows) Next() bool { return r.rows.Next() }

func (r *sqliteRows) Values() ([]any, error) {
	raw := make([]any, len(r.kinds))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make([]any, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		switch r.kinds[i] {
		case 't':
			switch x := v.(type) {
			case string:
				out[i] = x
			case []byte:
				out[i] = string(x)
			default:
				return nil, fmt.Errorf("column %d: text expected, got %T", i, v)
			}
		case 'b':
			switch x := v.(type) {
			case []byte:
				out[i] = x
			case string:
				out[i] = []byte(x)
			default:
				return nil, fmt.Errorf("column %d: bytes expected, got %T", i, v)
			}
		case 'i':
			x, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("column %d: integer expected, got %T", i, v)
			}
			out[i] = x
		case 'a':
			var data []byte
			switch x := v.(type) {
			case string:
				data = []byte(x)
			case []byte:
				data = x
			default:
				return nil, fmt.Errorf("column %d: a JSON array expected, got %T", i, v)
			}
			list := []string{}
			if err := json.Unmarshal(data, &list); err != nil || list == nil {
				return nil, fmt.Errorf("column %d: a JSON array of text expected: %v", i, err)
			}
			out[i] = list
		case 'B':
			switch x := v.(type) {
			case int64:
				out[i] = x != 0
			case bool:
				out[i] = x
			default:
				return nil, fmt.Errorf("column %d: boolean expected, got %T", i, v)
			}
		}
	}
	return out, nil
}

func (r *sqliteRows) Err() error { return r.rows.Err() }

var _ pgx.CopyFromSource = (*sqliteRows)(nil)
