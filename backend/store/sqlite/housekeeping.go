package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"sessiondesk/backend/store"
)

// ReserveAttempt is the throttle's atomic step (see store.Store). The
// IMMEDIATE write transaction holds SQLite's one write lock from its first
// statement, so the count and the new marks are one step for every process
// on the file.
func (d *DB) ReserveAttempt(ctx context.Context, keys []store.ThrottleKey, now time.Time, window time.Duration) (store.Reservation, error) {
	var res store.Reservation
	sorted := append([]store.ThrottleKey(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	err := d.write(ctx, func(w *writeTx) error {
		res = store.Reservation{}
		cutoff := nanos(now.Add(-window))
		var wait time.Duration
		for _, k := range sorted {
			if _, err := w.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ? AND at <= ?`, k.Key, cutoff); err != nil {
				return err
			}
			// The Limit-th newest mark, when there are that many.
			var at int64
			err := w.QueryRowContext(ctx, `SELECT at FROM login_attempts WHERE key = ? ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?`,
				k.Key, k.Limit-1).Scan(&at)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			wait = max(wait, fromNanos(at).Add(window).Sub(now), time.Second)
		}
		if wait > 0 {
			res.Wait = wait
			return nil
		}
		res.ID = store.NewID(store.PrefixAttempt)
		for _, k := range sorted {
			if _, err := w.ExecContext(ctx, `INSERT INTO login_attempts (key, id, at, pending) VALUES (?, ?, ?, 1)`,
				k.Key, res.ID, nanos(now)); err != nil {
				return err
			}
		}
		res.OK = true
		return nil
	})
	if err != nil {
		return store.Reservation{}, fmt.Errorf("sqlite: reserve attempt: %w", err)
	}
	return res, nil
}

// SettleAttempt ends a reservation (see store.Store).
func (d *DB) SettleAttempt(ctx context.Context, id string, failed bool, clearKey string) error {
	err := d.write(ctx, func(w *writeTx) error {
		q := `DELETE FROM login_attempts WHERE id = ?`
		if failed {
			q = `UPDATE login_attempts SET pending = 0 WHERE id = ?`
		}
		if _, err := w.ExecContext(ctx, q, id); err != nil {
			return err
		}
		if clearKey != "" {
			_, err := w.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ? AND pending = 0`, clearKey)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: settle attempt: %w", err)
	}
	return nil
}

// PruneAttempts deletes throttle marks older than before.
func (d *DB) PruneAttempts(ctx context.Context, before time.Time) (int, error) {
	return d.deleteRows(ctx, "prune attempts", `DELETE FROM login_attempts WHERE at < ?`, nanos(before))
}

// deleteRows runs one housekeeping DELETE in a write transaction that
// stamps nothing and returns how many rows it deleted.
func (d *DB) deleteRows(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int64
	err := d.write(ctx, func(w *writeTx) error {
		res, err := w.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return int(n), nil
}

// DeleteEndedSessions deletes at most limit sessions that ended before
// endedBefore (see store.Store). It stamps nothing. Such a session was last
// written before the horizon (a termination is a session's last write;
// touches stop at expiry), so the feed index (org_id, updated_at, id) finds
// them without an index that every terminate-all would have to maintain.
func (d *DB) DeleteEndedSessions(ctx context.Context, endedBefore time.Time, limit int) (int, error) {
	t := nanos(endedBefore)
	return d.deleteRows(ctx, "delete ended sessions", `DELETE FROM sessions WHERE id IN (
		SELECT s.id FROM orgs o JOIN sessions s ON s.org_id = o.id AND s.updated_at < ?
		WHERE s.terminated_at < ? OR (s.terminated_at IS NULL AND s.expires_at < ?) LIMIT ?)`, t, t, t, limit)
}
